"""The FastAPI app: one engine loaded at startup, routes under /v1, one JSON error shape."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from api import errors
from api.body import BodyGate
from api.catalog_sync import CatalogSync
from api.metrics import LatencyMiddleware, Metrics
from api.ratelimit import limiters
from api.routes import accounts, chat, events, feed, health, operator, titles
from api.runtime import Runtime
from assistant import Assistant
from engine import Engine, Settings, assemble, freeze_loaded, redact_logs

log = logging.getLogger("marquee.api")
SHUTDOWN_WAIT_S = 10.0  # for a load still in flight at shutdown


def _warm_assistant(engine: Engine) -> Assistant:
    found = Assistant.open(engine)
    found.warm_up()
    return found


def _load(app: FastAPI, rt: Runtime) -> None:
    """Load the engine and warm the assistant, on a thread of its own: the server answers /livez (and
    503 with Retry-After elsewhere) from its first second instead of after the load."""
    settings = rt.settings
    engine = None
    try:
        rt.loading = "artifacts, models and the title index"
        engine = assemble(settings, settings.api.dataset)
        rt.loading = "the search index"
        engine.warm()
        rt.loading = "the assistant's text model"
        # A served app chats: load the assistant's text model now, not on the first viewer's turn.
        app.state.assistant = _warm_assistant(engine)
        freeze_loaded()  # loaded for the process's life: out of the GC's full passes (engine/heap.py)
    except Exception as exc:  # served as 503 with this reason: /readyz tells operators what to fix
        rt.load_error = f"{type(exc).__name__}: {exc}"
        log.error("engine not loaded: %s", rt.load_error)
        if engine is not None:
            engine.close()
    else:
        rt.engine = engine
        log.info("engine loaded: serving %s", settings.api.dataset)
    finally:
        rt.loading = None


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The API over `engine`, or over the engine loaded in the background from `settings` (closed at
    shutdown): until it is loaded, /livez answers, /readyz says what is loading and other routes 503.

    A given engine is the caller's to close: tests share one across several apps.
    """
    settings = settings or (engine.settings() if engine is not None else Settings())
    redact_logs()  # a configured URL's credentials never reach a log line
    limiter, anonymous = limiters(settings)
    rt = Runtime(settings=settings, metrics=Metrics(), limiter=limiter, anonymous=anonymous, engine=engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loader = None
        if rt.engine is None:
            loader = threading.Thread(target=_load, args=(app, rt), name="engine-load", daemon=True)
            loader.start()
        sync = CatalogSync(app)  # other replicas' title edits, into this one's engine
        sync.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(sync.stop)
            if loader is not None:
                # A load in flight gets a little while to finish and be closed; past that the process
                # leaves without it (the thread is a daemon; the stores are durable at every commit).
                await anyio.to_thread.run_sync(loader.join, SHUTDOWN_WAIT_S)
            chat_assistant = getattr(app.state, "assistant", None)
            if chat_assistant is not None:  # made on the first chat turn, if there was one
                chat_assistant.close()
                app.state.assistant = None
            if loader is not None and rt.engine is not None:
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
    app.add_middleware(BodyGate, limit=settings.api.max_body_bytes, timeout_s=settings.api.body_timeout_s)
    app.add_middleware(LatencyMiddleware, metrics=rt.metrics)  # outermost: times everything
    return app
