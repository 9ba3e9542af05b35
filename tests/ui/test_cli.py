"""`marquee ui`: streamlit run ui/app.py, headless, on the given port, with the API URL passed through."""

from __future__ import annotations

import sys

import pytest
import typer
from typer.testing import CliRunner

from ui import cli


def test_marquee_ui_runs_streamlit_headless_against_the_given_api(monkeypatch: pytest.MonkeyPatch) -> None:
    launched: list[tuple[str, list[str], dict[str, str]]] = []

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        launched.append((path, argv, env))

    monkeypatch.setattr(cli.os, "execve", execve)
    monkeypatch.delenv("MARQUEE_UI__API_URL", raising=False)
    app = typer.Typer()
    cli.register(app)
    app.command("noop")(lambda: None)  # two commands, so `ui` is addressed by name as in `marquee ui`
    result = CliRunner().invoke(app, ["ui", "--port", "8600", "--api", "http://127.0.0.1:9000"])
    assert result.exit_code == 0, result.output
    assert "marquee UI on http://127.0.0.1:8600 (API http://127.0.0.1:9000)" in result.output
    [(path, argv, env)] = launched
    assert path == sys.executable
    assert argv[1:5] == ["-m", "streamlit", "run", str(cli.APP)]
    assert {"--server.headless=true", "--server.port=8600", "--server.address=127.0.0.1"} <= set(argv)
    assert env["MARQUEE_UI__API_URL"] == "http://127.0.0.1:9000"
