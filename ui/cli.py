"""`marquee ui`: the Streamlit app, headless, pointed at an API. Plugged in through an entry point."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

APP = Path(__file__).with_name("app.py")


def streamlit_command(*, host: str, port: int) -> list[str]:
    """`streamlit run ui/app.py` for a server: headless, no file watching, no usage statistics."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless=true",
        f"--server.address={host}",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=minimal",
        "--theme.base=dark",
        "--theme.primaryColor=#e50914",
    ]


def register(app: typer.Typer) -> None:
    @app.command("ui")
    def ui(
        port: Annotated[int, typer.Option(min=1, max=65535)] = 8501,
        api: Annotated[
            str | None, typer.Option("--api", help="the API's base URL; default: MARQUEE_UI__API_URL")
        ] = None,
        host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    ) -> None:
        """Serve the web UI: homepage rows and the assistant, a client of `marquee serve`."""
        env = dict(os.environ)
        if api is not None:
            env["MARQUEE_UI__API_URL"] = api
        target = env.get("MARQUEE_UI__API_URL", "http://127.0.0.1:8000")
        print(f"marquee UI on http://{host}:{port} (API {target})", flush=True)
        command = streamlit_command(host=host, port=port)
        os.execve(command[0], command, env)  # streamlit takes this process over: signals reach it directly
