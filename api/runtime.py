"""What the app holds while it serves: the engine (loaded once), its homepages, metrics and rate limiters."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from api.errors import ApiError
from api.locks import Lock, catalog_lock
from api.metrics import Metrics
from api.owners import Owners
from api.pages import PageService, page_store
from api.ratelimit import Limiter
from engine import Engine, Settings


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics
    limiter: Limiter  # per API key
    anonymous: Limiter  # per client address, for what needs no key
    engine: Engine | None = None
    load_error: str | None = None  # why the engine did not load, for /readyz
    loading: str | None = None  # what the background load is at, for /readyz
    pages: PageService = field(init=False)  # homepages: cached, and rebuilt before a write is acknowledged
    swaps: threading.Lock = field(default_factory=threading.Lock)  # one engine swap at a time here
    catalog_writes: Lock = field(init=False)  # one operator's catalog write at a time, across replicas
    owners: Owners = field(init=False)  # who owns a key, a profile: kept a while on shared stores

    def __post_init__(self) -> None:
        self.pages = PageService(self.settings, self.metrics, self.ready_engine, page_store(self.settings))
        self.catalog_writes = catalog_lock(self.settings)
        shared = self.settings.database_url is not None
        self.owners = Owners(
            lambda: self.ready_engine().accounts(), self.settings.api.key_cache_s if shared else None
        )

    def ready_engine(self) -> Engine:
        if self.engine is None:
            raise ApiError(503, f"not ready: {self.not_ready_reason()}", headers={"Retry-After": "5"})
        return self.engine

    def not_ready_reason(self) -> str:
        if self.load_error is not None:
            return self.load_error
        return f"loading {self.loading}" if self.loading else "the engine is still loading"


async def runtime(request: Request) -> Runtime:
    """Async on purpose: FastAPI runs a sync dependency on a worker thread, a hop every request paid."""
    rt: Runtime = request.app.state.runtime
    return rt


async def engine(request: Request) -> Engine:
    rt: Runtime = request.app.state.runtime
    return rt.ready_engine()


RuntimeDep = Annotated[Runtime, Depends(runtime)]
EngineDep = Annotated[Engine, Depends(engine)]
