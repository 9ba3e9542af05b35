"""What the app holds while it serves: the engine (loaded once), the page cache, metrics, rate limiter
and a few threads for work a request leaves behind."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from api.cache import ProfileCache
from api.errors import ApiError
from api.metrics import Metrics
from api.ratelimit import RateLimiter
from engine import Engine, Settings

log = logging.getLogger("marquee.api")


class Background:
    """Work a request leaves behind (rebuilding a profile's pages after a write), on a few threads.

    Bounded: past `max_pending` queued jobs a new one is dropped, so a burst of writes cannot pile up
    work; what a dropped job would have done happens on the next request instead. A failed job is
    logged, never raised into a request.
    """

    def __init__(self, threads: int = 2, max_pending: int = 64) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="marquee-background")
        self._max_pending = max_pending
        self._pending = 0
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], object]) -> bool:
        """Queue `job`; False when it was dropped (too much pending, or shut down)."""
        with self._lock:
            if self._pending >= self._max_pending:
                return False
            self._pending += 1
        try:
            self._pool.submit(job).add_done_callback(self._done)
        except RuntimeError:  # shut down
            with self._lock:
                self._pending -= 1
            return False
        return True

    def close(self) -> None:
        """Finish the queued jobs, then stop the threads."""
        self._pool.shutdown(wait=True)

    def _done(self, future: Future[object]) -> None:
        with self._lock:
            self._pending -= 1
        if (exc := future.exception()) is not None:
            log.warning("background job failed: %s: %s", type(exc).__name__, exc)


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics
    limiter: RateLimiter
    engine: Engine | None = None
    load_error: str | None = None  # why the engine did not load, for /readyz
    cache: ProfileCache = field(default_factory=ProfileCache)
    background: Background = field(default_factory=Background)

    def ready_engine(self) -> Engine:
        if self.engine is None:
            reason = self.load_error or "the engine is still loading"
            raise ApiError(503, f"not ready: {reason}", headers={"Retry-After": "5"})
        return self.engine


async def runtime(request: Request) -> Runtime:
    """Async on purpose: FastAPI runs a sync dependency on a worker thread, a hop every request paid."""
    rt: Runtime = request.app.state.runtime
    return rt


async def engine(request: Request) -> Engine:
    rt: Runtime = request.app.state.runtime
    return rt.ready_engine()


RuntimeDep = Annotated[Runtime, Depends(runtime)]
EngineDep = Annotated[Engine, Depends(engine)]
