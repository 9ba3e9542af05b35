"""`marquee chat` in the terminal, on a copy of the session's artifacts (an Edge index serves one process)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import Settings
from engine.cli import app
from tests.conftest import DATASET

pytestmark = pytest.mark.slow


def test_chat_answers_each_message_with_catalog_picks(api_settings: Settings, tmp_path: Path) -> None:
    shutil.copytree(api_settings.dataset_artifacts(DATASET), tmp_path / "artifacts" / DATASET)
    env = {
        "MARQUEE_DATA_DIR": str(api_settings.data_dir),
        "MARQUEE_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "MARQUEE_STATE_DIR": str(tmp_path / "state"),
    }
    said = ["hello", "a comedy from the 90s", "seen it"]
    result = CliRunner().invoke(app, ["chat", "--user", "1", *(f"--message={m}" for m in said)], env=env)
    assert result.exit_code == 0, result.output
    turns = result.output.split("marquee> ")[1:]
    assert len(turns) == 3 and "mood" in turns[0]
    assert "1. **" in turns[1] and "1. **" in turns[2]
    first_pick = turns[1].split("1. **")[1].split("**")[0]
    assert first_pick not in turns[2]  # "seen it" took the first pick out


def test_chat_names_a_bad_user_in_one_line(api_settings: Settings, tmp_path: Path) -> None:
    shutil.copytree(api_settings.dataset_artifacts(DATASET), tmp_path / "artifacts" / DATASET)
    env = {
        "MARQUEE_DATA_DIR": str(api_settings.data_dir),
        "MARQUEE_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
    }
    result = CliRunner().invoke(app, ["chat", "--user", "999999", "-m", "hi"], env=env)
    assert result.exit_code == 2 and "unknown user 999999" in result.output
