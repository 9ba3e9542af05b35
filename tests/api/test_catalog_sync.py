"""The poll that brings other replicas' title edits into this one (api/catalog_sync.py), over stand-in
engines: it reloads only when the edits moved on, and an unreachable edits store is one warning, not a
crash of the loop. The real thing, two apps on one PostgreSQL and Redis: tests/faults/test_catalog_sync.py."""

from __future__ import annotations

import logging
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

import api.catalog_sync
from api.catalog_sync import CatalogSync, catch_up
from engine import StoreUnavailableError


class StandIn:
    """An engine as the poll sees it: whether its catalog changed (or the store is down)."""

    def __init__(self, answers: list[bool | Exception]) -> None:
        self.answers = answers

    def catalog_changed(self) -> bool:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def app_over(engine: StandIn) -> Any:
    runtime = SimpleNamespace(engine=engine, swaps=threading.Lock(), pages=SimpleNamespace(forgot=0))
    runtime.pages.forget_all = lambda: setattr(runtime.pages, "forgot", runtime.pages.forgot + 1)
    return SimpleNamespace(state=SimpleNamespace(runtime=runtime, assistant=None))


@pytest.fixture
def reloads(monkeypatch: pytest.MonkeyPatch) -> list[StandIn]:
    """Each reload's old engine; the new one is current."""
    done: list[StandIn] = []

    def reloaded(old: StandIn) -> StandIn:
        done.append(old)
        return StandIn([False])

    monkeypatch.setattr(api.catalog_sync, "reloaded", reloaded)
    return done


def test_a_poll_reloads_only_when_the_edits_moved_on(reloads: list[StandIn]) -> None:
    first = StandIn([False, True])
    app = app_over(first)
    assert not catch_up(app) and reloads == []
    assert catch_up(app) and reloads == [first]
    assert app.state.runtime.engine is not first and app.state.runtime.pages.forgot == 1
    assert not catch_up(app)  # the new engine read the edits: nothing more to do


def test_a_poll_leaves_an_engine_swapped_meanwhile_alone(reloads: list[StandIn]) -> None:
    app = app_over(StandIn([True]))
    swapped_by_a_write = StandIn([False])

    class Racing(StandIn):
        def catalog_changed(self) -> bool:
            app.state.runtime.engine = swapped_by_a_write  # an operator's write here, while polling
            return True

    app.state.runtime.engine = Racing([True])
    assert not catch_up(app) and reloads == [] and app.state.runtime.engine is swapped_by_a_write


def test_an_unreachable_edits_store_warns_once_and_the_poll_goes_on(
    reloads: list[StandIn], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="marquee.api")
    down = StoreUnavailableError("connection refused")
    app = app_over(StandIn([down, down, down, True]))
    sync = CatalogSync(app, interval_s=0.001)
    sync.start()
    try:
        deadline = time.monotonic() + 30
        while not reloads and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        sync.stop()
    assert len(reloads) == 1  # the store came back and the change was applied
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "unreachable" in warned[0].getMessage()
    assert any("reachable again" in r.getMessage() for r in caplog.records)
