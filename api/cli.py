"""`marquee serve`: the API under uvicorn. Plugged into the `marquee` CLI through an entry point."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=0, max=65535)] = 8000,
        dataset: Annotated[
            str | None, typer.Option("--dataset", "-d", help="default: MARQUEE_API__DATASET")
        ] = None,
        page_workers: Annotated[
            int | None,
            typer.Option(
                min=0,
                max=16,
                help="processes making homepage drafts beside the server; "
                "default: MARQUEE_PAGE_WORKERS, else one per core but one (at most 4)",
            ),
        ] = None,
        access_log: Annotated[
            bool,
            typer.Option(help="a log line per request (~0.1 ms of CPU each; /metrics counts them anyway)"),
        ] = False,
    ) -> None:
        """Serve the HTTP API (docs at /docs, metrics at /metrics). /livez answers as soon as the port is
        open; the app's code and the engine load behind it."""
        from api.shell import run  # light: the app's own imports happen behind the open port

        run(host, port, dataset, page_workers, access_log)
