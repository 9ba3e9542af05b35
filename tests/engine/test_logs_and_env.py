"""Start-up basics: `.env` read by the settings, `marquee --version`, and the `marquee.*` log lines."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import Settings, package_version
from engine.cli import app
from engine.logs import ROOT, configure_logging


@pytest.fixture
def marquee_logger() -> Iterator[logging.Logger]:
    """The `marquee` logger as configured by a test, put back as it was afterwards."""
    logger = logging.getLogger(ROOT)
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield logger
    logger.handlers[:], logger.level, logger.propagate = saved


def test_dotenv_fills_in_what_the_environment_leaves_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("MARQUEE_SEED=7\nMARQUEE_API__DATASET=ml-1m\nMARQUEE_LOG_LEVEL=debug\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MARQUEE_SEED", raising=False)
    monkeypatch.delenv("MARQUEE_API__DATASET", raising=False)
    monkeypatch.setenv("MARQUEE_LOG_LEVEL", "warning")  # the environment wins over the file
    s = Settings()
    assert (s.seed, s.api.dataset, s.log_level) == (7, "ml-1m", "WARNING")


def test_the_documented_example_is_a_valid_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text())
    monkeypatch.chdir(tmp_path)
    assert Settings().api.dataset == "ml-latest-small"


def test_text_lines_carry_time_level_and_logger(
    marquee_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO")
    logging.getLogger("marquee.api").info("engine loaded in %d s", 3)
    logging.getLogger("marquee.api").debug("below the level")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert re.fullmatch(stamp + r" INFO marquee\.api: engine loaded in 3 s", lines[0])


def test_json_lines_when_asked(marquee_logger: logging.Logger, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", json_lines=True)
    configure_logging("DEBUG", json_lines=True)  # configuring twice must not double the lines
    logging.getLogger("marquee.pages").debug("worker %s up", "w1")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert (record["level"], record["logger"]) == ("DEBUG", "marquee.pages")
    assert record["message"] == "worker w1 up"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", record["time"])


def test_version_and_a_bad_log_level() -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["--version"])
    assert shown.exit_code == 0 and shown.stdout.strip() == f"marquee {package_version()}"
    bad = runner.invoke(app, ["data", "fetch", "ml-latest-small"], env={"MARQUEE_LOG_LEVEL": "loud"})
    assert bad.exit_code == 2
    assert "MARQUEE_LOG_LEVEL" in bad.stderr and "'DEBUG', 'INFO'" in bad.stderr
