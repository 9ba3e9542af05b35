"""The FastAPI app: one engine loaded at startup, routes under /v1, one JSON error shape."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.metrics import LatencyMiddleware, Metrics
from api.ratelimit import RateLimiter
from api.rebuilds import Rebuilds
from api.routes import accounts, chat, events, feed, health, operator, titles
from api.runtime import Runtime
from assistant import Assistant
from engine import Engine, Settings

log = logging.getLogger("marquee.api")


class BodyLimit:
    """413 for a body over `limit` bytes, whether or not the client sent Content-Length.

    The body is read here (at most limit + 1 bytes) and replayed, so an oversize request is refused before
    any handler sees it; bodies are small JSON, so buffering them costs nothing.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; let the app see the disconnect
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = errors.error_response(413, f"request body over {self.limit} bytes", field="body")
        await response(scope, receive, send)


def _warm_assistant(engine: Engine) -> Assistant:
    found = Assistant.open(engine)
    found.warm_up()
    return found


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The API over `engine`, or over the engine loaded at startup from `settings` (closed at shutdown).

    A given engine is the caller's to close: tests share one across several apps.
    """
    settings = settings or (engine.settings if engine is not None else Settings())
    rt = Runtime(
        settings=settings,
        metrics=Metrics(),
        limiter=RateLimiter(settings.api.rate_limit_per_minute),
        rebuilds=Rebuilds(settings.page_workers + 1),
        engine=engine,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = rt.engine is None
        if owned:
            try:
                rt.engine = await anyio.to_thread.run_sync(Engine.load, settings, settings.api.dataset)
            except Exception as exc:  # served as 503 with this reason: /readyz tells operators what to fix
                rt.load_error = f"{type(exc).__name__}: {exc}"
                log.error("engine not loaded: %s", rt.load_error)
            else:
                # A served app chats: load the assistant's text model now, not on the first viewer's turn.
                app.state.assistant = await anyio.to_thread.run_sync(_warm_assistant, rt.engine)
        try:
            yield
        finally:
            chat_assistant = getattr(app.state, "assistant", None)
            if chat_assistant is not None:  # made on the first chat turn, if there was one
                chat_assistant.close()
                app.state.assistant = None
            if owned and rt.engine is not None:
                rt.engine.close()
                rt.engine = None

    app = FastAPI(
        title="Marquee API",
        version="1",
        summary="Personalized rows, search and feedback over the Marquee recommender.",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    errors.install(app)
    for module in (accounts, feed, events, titles, operator, chat, health):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, limit=settings.api.max_body_bytes)
    app.add_middleware(LatencyMiddleware, metrics=rt.metrics)  # outermost: times everything
    return app
