"""Catalog changes reach every replica: each one polls the operator's title edits (engine/title_edits.py:
in PostgreSQL with MARQUEE_DATABASE_URL, shared by every replica; else the state folder's JSON file,
shared by the servers of one folder) and, when their version moved past the one its engine was loaded at,
reloads its engine over its own copy of the index with them, drops the cached pages and the assistant.

A version polled every POLL_S rather than a pub/sub message: a replica that was down or disconnected
when an edit was made still catches up on its next poll, and there is no subscriber thread to lose.
Between the edit and the poll (about a second, plus the reload), this replica serves the catalog before
the edit; pages it computes meanwhile may be cached until it drops them after its reload.
"""

from __future__ import annotations

import logging
import threading
import time

from fastapi import FastAPI

from api.runtime import Runtime
from engine import Engine, StoreUnavailableError, reloaded

POLL_S = 1.0
log = logging.getLogger("marquee.api")


def swap_engine(app: FastAPI, eng: Engine) -> Engine:
    """The engine over the catalog as now written, in `eng`'s place; pages and the assistant of the old
    one are dropped. Call it holding `rt.swaps`."""
    rt: Runtime = app.state.runtime
    fresh = reloaded(eng)
    rt.engine = fresh
    rt.pages.forget_all()
    chat = getattr(app.state, "assistant", None)
    app.state.assistant = None  # made again on the next chat turn, over the new catalog
    if chat is not None:
        chat.close()
    return fresh


def catch_up(app: FastAPI) -> bool:
    """One poll: reload if the title edits moved on since the serving engine read them. True if it
    reloaded. Raises StoreUnavailableError when the edits' store is unreachable."""
    rt: Runtime = app.state.runtime
    eng = rt.engine
    if eng is None or not eng.catalog_changed():
        return False
    started = time.perf_counter()
    with rt.swaps:
        if rt.engine is not eng:  # an operator's write here swapped it meanwhile
            return False
        swap_engine(app, eng)
    log.info("catalog changed on another server: reloaded with its title edits in %.1f s",
             time.perf_counter() - started)  # fmt: skip
    return True


class CatalogSync:
    """The polling thread of one app: started and stopped with it."""

    def __init__(self, app: FastAPI, *, interval_s: float | None = None) -> None:
        self._app = app
        self._interval_s = POLL_S if interval_s is None else interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="catalog-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        down = False  # one warning per outage of the edits' store
        while not self._stop.wait(self._interval_s):
            try:
                catch_up(self._app)
            except StoreUnavailableError as exc:
                if not down:
                    log.warning("title edits unreachable, serving the catalog as last loaded: %s", exc)
                down = True
                continue
            except Exception:  # a reload that failed: the old engine serves on; the next poll tries again
                log.exception("catalog reload after another server's title edit failed")
            if down:
                log.info("title edits reachable again")
                down = False
