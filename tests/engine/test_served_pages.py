"""The experiment page logs: one suite run against SQLite and PostgreSQL alike (a congruence suite). Two
logs over one file or database stand for two replicas; the report reads them as one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.config import ExperimentSettings
from engine.experiments import (
    EXPERIMENTS_FILE,
    PageStore,
    PostgresServedPages,
    ServedPage,
    ServedPages,
    report,
)
from tests.backends import BACKENDS, opener

AB = ExperimentSettings(name="rank1", arms=["ranker", "candidate_order"])


@pytest.fixture(params=BACKENDS)
def open_pages(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], PageStore]]:
    def sqlite() -> PageStore:
        return ServedPages(tmp_path / EXPERIMENTS_FILE)

    with opener(request, sqlite=sqlite, postgresql=PostgresServedPages) as open_one:
        yield open_one


@pytest.fixture
def where(request: pytest.FixtureRequest, open_pages: object, tmp_path: Path) -> dict[str, Any]:
    """The report's arguments that read what `open_pages` writes."""
    if request.node.callspec.params["open_pages"] == "sqlite":
        return {"state": tmp_path}
    return {"state": tmp_path, "database_url": request.getfixturevalue("postgres_url")}


def test_pages_logged_on_two_replicas_read_back_as_one_log_oldest_first(
    open_pages: Callable[[], PageStore],
) -> None:
    a, b = open_pages(), open_pages()
    a.add(ServedPage("p1", "ranker", 3.0, 12.5, 0.4, experiment="rank1"))
    b.add(ServedPage("p2", "interleaved", 1.0, 8.0, 0.6, experiment="il", teams={5: "ranker", 9: "x"}))
    b.add(ServedPage("p3", "ranker", 2.0, 1.0, 0.0))
    pages = open_pages().pages()
    assert [p.profile_id for p in pages] == ["p2", "p3", "p1"]
    assert pages[0].teams == {5: "ranker", 9: "x"} and pages[1].teams is None
    assert pages[2] == ServedPage("p1", "ranker", 3.0, 12.5, 0.4, experiment="rank1")
    assert pages[1].experiment is None


def test_the_report_counts_every_replicas_pages(
    open_pages: Callable[[], PageStore], where: dict[str, Any]
) -> None:
    a, b = open_pages(), open_pages()
    a.add(ServedPage("x", "ranker", 1.0, 10.0, 0.4, experiment="rank1"))
    b.add(ServedPage("y", "ranker", 2.0, 20.0, 0.6, experiment="rank1"))
    b.add(ServedPage("z", "candidate_order", 3.0, 5.0, 0.2, experiment="rank1"))
    b.add(ServedPage("w", "ranker", 4.0, 999.0, 0.9, experiment="older"))  # another experiment's
    for log in (a, b):
        log.close()  # the report reads what was committed, not an open writer's view
    arms = report(experiment=AB, **where)["arms"]
    assert (arms["ranker"]["pages"], arms["ranker"]["profiles"]) == (2, 2)
    assert arms["ranker"]["mean_latency_ms"] == 15.0 and arms["ranker"]["mean_ild"] == pytest.approx(0.5)
    assert arms["candidate_order"]["pages"] == 1
