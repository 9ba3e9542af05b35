"""The import-linter contracts in pyproject.toml hold, and break when an upper layer reaches past the
engine's face: checked on a copy of the packages, one with a planted import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("catalog", "retrieval", "ranker", "engine", "assistant", "api", "ui", "evals")
LINT = Path(sys.executable).parent / "lint-imports"


def _copy(tmp: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    return tmp


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    if not LINT.exists():
        pytest.skip("import-linter is not installed (make install installs it)")
    return _copy(tmp_path)


def test_the_contracts_hold_on_the_tree(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        ("api/views.py", "from engine.facade import Engine", "Upper layers use the engine's face"),
        ("evals/metrics.py", "import engine.assembly", "Upper layers use the engine's face"),
        ("assistant/titles.py", "from retrieval import TitleIndex", "reach the lower packages through"),
        ("ranker/rows.py", "from engine import Engine", "Layers"),
    ],
)
def test_a_planted_import_breaks_its_contract(tree: Path, module: str, planted: str, contract: str) -> None:
    path = tree / module
    path.write_text(path.read_text() + f"\n{planted}  # planted\n")
    result = _lint(tree)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(contract in line for line in broken), result.stdout
