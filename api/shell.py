"""The process's first ASGI app: answers /livez from the moment the socket is open, while the real app's
code (torch, the models' libraries: seconds of imports) is imported on a thread; then forwards to it.

Until the real app exists, /livez is 200 and every other path 503 with Retry-After, in the API's error
shape. Imports nothing of ours beyond this package's light modules, so `python -m api.shell` binds its
port within a second or two of starting; `marquee serve` uses it too (after the CLI's own imports).
Served by `run`, the imports begin only once the port is open: an import holds the interpreter's lock
for long stretches (loading torch's libraries), and opening the port must not wait behind it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("marquee.api")


class Deferred:
    """Forwards to `make()`'s app once made (on a thread) and started (its lifespan). The making begins
    at lifespan start, or, without `at_startup`, when the server calls `begin` (once it listens)."""

    def __init__(self, make: Callable[[], Any], *, at_startup: bool = True) -> None:
        self._make = make
        self._at_startup = at_startup
        self._app: ASGIApp | None = None
        self._reason = "loading the server's code"
        self._stack = AsyncExitStack()
        self._starting: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = self._app
        if app is not None:
            await app(scope, receive, send)
            return
        if scope["type"] != "http":
            return  # a websocket before the app exists: closed
        if scope["path"] == "/livez":
            await _json(send, 200, {"status": "ok"})
        elif scope["path"] == "/readyz":
            await _json(send, 503, {"status": "unavailable", "reason": self._reason}, retry=True)
        else:
            # The API's error shape (api/errors.py), written out here: importing it is what takes seconds.
            error = {"type": "unavailable", "message": f"not ready: {self._reason}", "param": None}
            await _json(send, 503, {"error": error | {"code": "unavailable"}}, retry=True)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # startup
        if self._at_startup:
            self.begin()
        await send({"type": "lifespan.startup.complete"})
        await receive()  # shutdown
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()  # still importing: nothing of the real app to stop
        await self._stack.aclose()
        await send({"type": "lifespan.shutdown.complete"})

    def begin(self) -> None:
        """Start making the app; called on the server's event loop, once (later calls do nothing)."""
        if self._starting is None:
            self._starting = asyncio.get_running_loop().create_task(self._start())

    async def _start(self) -> None:
        try:
            app = await anyio.to_thread.run_sync(self._make, abandon_on_cancel=True)
            await self._stack.enter_async_context(app.router.lifespan_context(app))
        except Exception as exc:  # the reason is served by /readyz, and every route's 503
            self._reason = f"the server did not start: {type(exc).__name__}: {exc}"
            log.exception("server not started", exc_info=exc)
            return
        self._app = app


async def _json(send: Send, status: int, body: dict[str, Any], *, retry: bool = False) -> None:
    headers = [(b"content-type", b"application/json")]
    if retry:
        headers.append((b"retry-after", b"5"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


def real_app(dataset: str | None, page_workers: int | None) -> Any:
    """The API app, with `marquee serve`'s defaults: imported here, on the shell's thread."""
    from api.app import create_app
    from engine import Settings

    settings = Settings()
    if dataset is not None:
        settings = settings.model_copy(update={"api": settings.api.model_copy(update={"dataset": dataset})})
    if page_workers is None and "MARQUEE_PAGE_WORKERS" not in os.environ:
        page_workers = min((os.cpu_count() or 1) - 1, 4)  # a core for the server, the rest drafting
    if page_workers is not None:
        settings = settings.model_copy(update={"page_workers": page_workers})
    return create_app(settings)


def run(host: str, port: int, dataset: str | None, page_workers: int | None, access_log: bool) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            app.begin()  # the port is open: now the seconds of imports

    print(f"marquee API on http://{host}:{port} (docs at /docs; /readyz says when it is ready)", flush=True)
    app = Deferred(lambda: real_app(dataset, page_workers), at_startup=False)
    config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=access_log)
    Server(config).run()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the HTTP API (the same as `marquee serve`).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--dataset", default=None)
    parser.add_argument("--page-workers", type=int, default=None)
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args()
    run(args.host, args.port, args.dataset, args.page_workers, args.access_log)


if __name__ == "__main__":
    main()
