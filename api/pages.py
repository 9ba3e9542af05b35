"""Homepages as served: the one place that holds the page cache, rebuilds pages before a write is
acknowledged, and turns the engine's rows into the cached response. Routes ask it for a page and tell
it about writes; none of them touches the cache or another route.

The engine underneath drafts pages in its own worker processes (engine/pages.py), and each page's
request notes its own fallback (`Page.fallback`), so what is cached is exactly what was served.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from api.cache import Outcome, PageStore, ProfileCache
from api.contexts import context
from api.experiments import assign
from api.metrics import Metrics
from api.models import RowsOut
from api.rebuilds import Rebuilds
from api.redis_pages import RedisPageStore
from api.views import row_out
from engine import Engine, Settings

MAX_REBUILT = 4  # pages rebuilt per write (one per device, region and hour asked for); others dropped
log = logging.getLogger("marquee.api")
PageKey = tuple[str | None, str | None, int | None]  # device, region, hour: what a cached page varies by


def page_store(settings: Settings) -> PageStore:
    """This process's cache, or with MARQUEE_REDIS_URL the one in Redis that every replica shares."""
    if settings.redis_url is None:
        return ProfileCache()
    return RedisPageStore(settings.redis_url.get_secret_value())


class PageService:
    def __init__(
        self, settings: Settings, metrics: Metrics, engine: Callable[[], Engine], store: PageStore
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._engine = engine  # the engine serving now (an operator's reload swaps it)
        self._cache = store
        # As many rebuilds at a time as there are page workers, plus this process.
        self._rebuilds = Rebuilds(settings.page_workers + 1)

    async def get(self, profile_id: str, key: PageKey) -> tuple[bytes, Outcome]:
        """The page's JSON body, and whether it was cached (hit), computed for this request (miss) or by
        a concurrent one (shared). A hit in this process's cache is answered on the event loop, never
        waiting for a thread; a read from Redis is a network call, made on a thread."""
        if self._cache.in_process:
            cached = self._cache.get(profile_id, key)
            if cached is not None:
                self._metrics.cache.labels("hit").inc()
                return cached, "hit"
        body, outcome = await run_in_threadpool(
            self._cache.get_or_compute, profile_id, key, self._compute(profile_id, key)
        )
        self._metrics.cache.labels(outcome).inc()
        return body, outcome

    def rebuild(self, profile_id: str) -> None:
        """After a write that changes what a profile is shown, before it is acknowledged: build the
        profile's cached pages anew and swap them in. Readers get the pages from before the write until
        the swap (the write is not acknowledged yet) and never wait for a page build; once the write is
        acknowledged, the new ones. Concurrent writes to one page share a rebuild that starts after both
        (api/rebuilds.py). A page that fails to build is dropped, and built on its next request."""
        token, keys = self._cache.begin_write(profile_id)
        pages: dict[PageKey, bytes] = {}
        try:
            for key in sorted(keys, key=repr)[:MAX_REBUILT]:
                try:
                    body, keep = self._rebuilds.run(
                        profile_id, key, self._compute(profile_id, key, ahead=True)
                    )
                except Exception as exc:  # the write stands; only the page is not ready
                    log.warning(
                        "page of %s not rebuilt after a write: %s: %s", profile_id, type(exc).__name__, exc
                    )
                    continue
                if keep:
                    pages[key] = body
        finally:
            self._cache.end_write(profile_id, pages, token)

    def invalidate(self, profile_id: str) -> None:
        """Drop the profile's pages (its maturity limit or region changed, or it is gone)."""
        self._cache.invalidate(profile_id)

    def forget_all(self) -> None:
        """Drop every page: the catalog changed, so any page may show it (New Releases, search, rows)."""
        self._cache.forget_all()

    def _compute(
        self, profile_id: str, key: PageKey, *, ahead: bool = False
    ) -> Callable[[], tuple[bytes, bool]]:
        """What computes one page: (JSON body, whether the cache may keep it); `ahead` of a request."""
        device, region, hour = key

        def compute() -> tuple[bytes, bool]:
            eng = self._engine()
            arm = assign(self._settings, profile_id)  # the arm that serves this page is the one reported
            ctx = context(eng, profile_id, region=region, device=device, hour=hour)
            page = eng.rows(ctx, arm=arm, experiment=self._settings.experiment, ahead=ahead)
            index_down = page.fallback is not None
            if page.ranker_fallback:
                self._metrics.fallbacks.labels("ranker").inc()
            if index_down:
                self._metrics.fallbacks.labels("index").inc()
            out = RowsOut(rows=[row_out(r) for r in page], variant=arm, degraded=page.degraded)
            # Kept serialized: a hit costs no validation or encoding. A fallback page is not worth keeping
            # once the index is back.
            return out.model_dump_json().encode(), not index_down

        return compute
