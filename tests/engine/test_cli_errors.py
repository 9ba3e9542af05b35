"""Bad input to the CLI ends with one line naming the problem and the valid options, exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app

runner = CliRunner()


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, args, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def test_unknown_dataset_names_the_value_and_the_options() -> None:
    code, err = _run(["build", "--dataset", "ml-999"])
    assert code == 2
    assert err.strip() == "marquee: error: unknown dataset 'ml-999'; valid: ml-100k, ml-1m, ml-latest-small"


def test_missing_data_dir(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    code, err = _run(["build", "--dataset", "ml-latest-small"], env={"MARQUEE_DATA_DIR": str(missing)})
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert str(missing) in err and "marquee data fetch ml-latest-small" in err


def test_data_dir_without_the_dataset(tmp_path: Path) -> None:
    code, err = _run(["build", "--dataset", "ml-1m"], env={"MARQUEE_DATA_DIR": str(tmp_path)})
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "ml-1m" in err


def test_recommend_without_artifacts(tmp_path: Path) -> None:
    code, err = _run(
        ["recommend", "--dataset", "ml-latest-small", "--user", "1"],
        env={"MARQUEE_ARTIFACTS_DIR": str(tmp_path)},
    )
    assert code == 2
    assert "marquee build --dataset ml-latest-small" in err


def test_unknown_fetch_target() -> None:
    code, err = _run(["data", "fetch", "ml-25m"])
    assert code == 2 and "fetchable: ml-latest-small" in err


@pytest.mark.slow
def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("marquee")
    env = {**os.environ, "MARQUEE_DATA_DIR": str(tmp_path / "missing")}
    proc = subprocess.run(
        [str(exe), "eval", "--dataset", "nope"], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("marquee: error:")
