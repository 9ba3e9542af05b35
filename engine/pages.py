"""Page drafts in worker processes, so a server is not held to one core by Python's interpreter lock.

A homepage draft (candidates, ranking, row assembly: ~20 ms of CPU) is the one heavy thing a request
does. Built in the serving process, it takes the interpreter from every cached page answered meanwhile;
built here, it runs on another core while the serving process keeps answering. Each worker loads its own
read-only engine from the same artifacts, with a copy of the Qdrant Edge shard (Edge lets one process
hold a shard, and its Python binding has no read-only open; a hard link would share the files the copy
writes its WAL to) or the same Qdrant server. The copies live in this server's scratch folder
(engine/scratch.py), which the next server removes if this one is killed. Workers never write: events, bandits
and the experiment log stay in the serving process, which presents the draft (row order, artwork).

Until the workers are up, and if they fail, drafts are made in the serving process: a page is never
refused for want of a worker.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Literal, Protocol

from catalog import Context
from engine.config import ExperimentSettings, Settings
from engine.heap import freeze_loaded
from engine.homepage import Draft
from engine.scratch import ScratchFolder

log = logging.getLogger("marquee.pages")
WAIT_S = 10.0  # a draft not back by then is made here instead
SCRATCH_DIR = "page-workers"  # under the data set's state folder


class DraftMaker(Protocol):
    def draft(self, context: Context, arm: str | None = None, *, experiment: ExperimentSettings) -> Draft: ...


# A worker's engine, from settings meant for it and the index replica in its own folder. A module-level
# function (the composition root's), so a spawned worker can be handed it.
Loader = Callable[[Settings, str, Path], DraftMaker]

_engine: DraftMaker | None = None  # the worker process's own engine


class PageWorkers:
    """`workers` processes making drafts for the engine of this process. Safe to call from any thread."""

    def __init__(self, settings: Settings, dataset: str, workers: int, *, loader: Loader) -> None:
        if workers < 1:
            raise ValueError(f"page workers must be >= 1; got {workers}")
        self._settings = settings
        self._dataset = dataset
        self._workers = workers
        self._loader = loader
        # Shard copies live under one folder per server, which the next server sweeps if this one is killed.
        self._scratch = ScratchFolder(settings.dataset_state(dataset) / SCRATCH_DIR)
        self._root = self._scratch.path
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None  # None once closed
        self._pool, self._ready = self._start()

    def draft(
        self,
        context: Context,
        *,
        arm: str | None,
        experiment: ExperimentSettings,
        local: Callable[[], Draft],
    ) -> Draft:
        """The draft from a worker, or `local()`'s while the workers start or when they fail."""
        with self._lock:
            pool, ready = self._pool, self._ready
        if pool is None or not ready.done() or ready.exception() is not None:
            return local()
        try:
            return pool.submit(_draft, context, arm, experiment).result(timeout=WAIT_S)
        except (BrokenProcessPool, TimeoutError) as exc:
            # A crashed or stuck worker: serve this page here and start fresh workers (a stuck one is left
            # to finish, or to leave with this process).
            log.warning(
                "page worker failed (%s: %s); drafting in the serving process", type(exc).__name__, exc
            )
            self._restart(pool)
            return local()
        except Exception:  # the draft failed there: here, its error surfaces as it would without workers
            return local()

    @property
    def status(self) -> Literal["starting", "ready", "failed"]:
        """ "starting", "ready" (drafts go to the workers) or "failed" (they did not start; drafts are
        made in the serving process)."""
        with self._lock:
            ready = self._ready
        if not ready.done():
            return "starting"
        return "failed" if ready.exception() is not None else "ready"

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._scratch.close()

    def _start(self) -> tuple[ProcessPoolExecutor, Future[list[None]]]:
        # Spawned, not forked: the serving process has threads and an open Qdrant shard.
        pool = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load,
            initargs=(self._loader, self._settings, self._dataset, self._root),
        )
        # One warm-up task per worker; while any is pending, drafts are made here.
        warming = [pool.submit(_warm) for _ in range(self._workers)]
        ready: Future[list[None]] = Future()
        settling = threading.Lock()  # callbacks may run on different threads

        def settle(_: Future[None]) -> None:
            with settling:
                if ready.done() or not all(f.done() for f in warming):
                    return
                failed = next((f.exception() for f in warming if f.exception() is not None), None)
                if failed is not None:
                    log.error("page workers did not start: %s", failed)
                    ready.set_exception(failed)
                else:
                    ready.set_result([None] * len(warming))

        for f in warming:
            f.add_done_callback(settle)
        return pool, ready

    def _restart(self, failed: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is not failed:
                return  # another request restarted them already
            self._pool, self._ready = self._start()
        failed.shutdown(wait=False, cancel_futures=True)


def _load(loader: Loader, settings: Settings, dataset: str, root: Path) -> None:
    """Worker start: an engine over a copy of the index, with throwaway state of its own."""
    global _engine
    # A worker outlives its server only as a leak: leave as soon as the serving process is gone.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()
    folder = Path(tempfile.mkdtemp(dir=root))
    atexit.register(shutil.rmtree, folder, True)
    local = settings.model_copy(update={"state_dir": folder / "state", "page_workers": 0})
    _engine = loader(local, dataset, folder)
    freeze_loaded()


def _exit_with(parent: int) -> None:
    multiprocessing.connection.wait([parent])
    os._exit(0)


def _warm() -> None:
    if _engine is None:
        raise RuntimeError("page worker has no engine")


def _draft(context: Context, arm: str | None, experiment: ExperimentSettings) -> Draft:
    if _engine is None:
        raise RuntimeError("page worker has no engine")
    return _engine.draft(context, arm=arm, experiment=experiment)
