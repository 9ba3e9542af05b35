"""`marquee serve`: the API under uvicorn. Plugged into the `marquee` CLI through an entry point."""

from __future__ import annotations

import os
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
        """Serve the HTTP API (docs at /docs, metrics at /metrics)."""
        import uvicorn  # here, so other commands do not pay for the import

        from api.app import create_app
        from engine import Settings

        settings = Settings()
        if dataset is not None:
            settings = settings.model_copy(
                update={"api": settings.api.model_copy(update={"dataset": dataset})}
            )
        if page_workers is None and "MARQUEE_PAGE_WORKERS" not in os.environ:
            page_workers = min((os.cpu_count() or 1) - 1, 4)  # a core for the server, the rest drafting
        if page_workers is not None:
            settings = settings.model_copy(update={"page_workers": page_workers})
        print(
            f"marquee API on http://{host}:{port} (dataset {settings.api.dataset}, "
            f"{settings.page_workers} page workers; docs at /docs)",
            flush=True,
        )
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=access_log)
