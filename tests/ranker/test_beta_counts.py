"""The bandits' count stores: one suite run against SQLite and PostgreSQL alike (a congruence suite). Two
stores over one file or database stand for two replicas, each with its in-memory copy of the counts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from catalog import StoreUnavailableError
from ranker import ArtworkBandit, RowOrderBandit
from ranker.bandits import BetaStore
from ranker.beta_counts import BetaCounts, PostgresBetaCounts, SQLiteBetaCounts
from tests.backends import BACKENDS, opener


@pytest.fixture(params=BACKENDS)
def open_counts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], BetaCounts]]:
    def sqlite() -> BetaCounts:
        return SQLiteBetaCounts(tmp_path / "bandits.sqlite")

    with opener(request, sqlite=sqlite, postgresql=PostgresBetaCounts) as open_one:
        yield open_one


def test_counts_added_on_two_replicas_are_both_seen_after_a_refresh(
    open_counts: Callable[[], BetaCounts],
) -> None:
    a, b = RowOrderBandit.over(open_counts()), RowOrderBandit.over(open_counts())
    a.update("comedy", "trending", True)
    b.update("comedy", "trending", False)
    b.update("comedy", "trending", True)
    assert a.posterior("comedy", "trending") == (2.0, 1.0)  # its own count only, until it refreshes
    a.refresh()
    b.refresh()
    assert a.posterior("comedy", "trending") == b.posterior("comedy", "trending") == (3.0, 2.0)


def test_a_periodic_refresh_folds_in_the_other_replicas_counts_without_a_call(
    open_counts: Callable[[], BetaCounts],
) -> None:
    writer = ArtworkBandit.over(open_counts())
    eager = ArtworkBandit.over(open_counts(), refresh_s=0.0)  # every read is past due
    lazy = ArtworkBandit.over(open_counts(), refresh_s=3600.0)
    writer.update(title_id=7, segment="dark", variant="cast", reward=True)
    assert eager.posterior(7, "dark", "cast") == writer.posterior(7, "dark", "cast")
    assert lazy.posterior(7, "dark", "cast") == (1.0, 1.0)  # within its staleness bound: not yet


def test_a_batch_of_trials_counts_as_their_updates_one_by_one(open_counts: Callable[[], BetaCounts]) -> None:
    one_by_one, batched = ArtworkBandit.over(open_counts()), ArtworkBandit.over(open_counts())
    trials = [(1, "dark", "cast", True), (1, "dark", "cast", False), (2, "dark", "mood", False)]
    for title_id, segment, variant, reward in trials:
        one_by_one.update(title_id=title_id, segment=segment, variant=variant, reward=reward)
    batched.update_many(trials)
    batched.refresh()  # both batches are in the one store now: counts doubled
    assert [batched.posterior(t, s, v) for t, s, v, _ in trials[::2]] == [
        (1.0 + 2 + 2, 1.0 + 2 + 2),  # own (2, 2) and its pool's (2, 2) below POOL_STRENGTH
        (1.0, 1.0 + 2 + 2),
    ]
    rows = RowOrderBandit.over(open_counts())
    rows.update_many([("comedy", "new", True), ("comedy", "new", False), ("family", "new", False)])
    assert (rows.posterior("comedy", "new"), rows.posterior("family", "new")) == ((2.0, 2.0), (1.0, 2.0))


def test_policies_keep_their_own_counts_in_one_store(open_counts: Callable[[], BetaCounts]) -> None:
    counts = open_counts()
    counts.add("rows", [("comedy", "new", 1, 0)])
    counts.add("artwork", [("comedy", "new", 0, 4)])
    assert counts.load("rows") == {("comedy", "new"): (1, 0)}
    assert counts.load("artwork") == {("comedy", "new"): (0, 4)}


def test_one_batch_may_count_a_cell_twice(open_counts: Callable[[], BetaCounts]) -> None:
    counts = open_counts()
    counts.add("rows", [("s", "a", 1, 0), ("s", "a", 1, 0), ("s", "b", 0, 1)])
    assert counts.load("rows") == {("s", "a"): (2, 0), ("s", "b"): (0, 1)}


def test_concurrent_replicas_lose_no_increment(open_counts: Callable[[], BetaCounts]) -> None:
    stores = [open_counts() for _ in range(4)]

    def hammer(counts: BetaCounts) -> None:
        for i in range(50):
            counts.add("rows", [("s", "a", i % 2, 1 - i % 2), ("*", "a", 1, 0)])

    threads = [threading.Thread(target=hammer, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert open_counts().load("rows") == {("s", "a"): (100, 100), ("*", "a"): (200, 0)}


class _Away:
    """A count store whose database has gone away after opening."""

    def __init__(self) -> None:
        self.down = False

    def add(self, policy: str, increments: object) -> None:
        raise StoreUnavailableError("connection refused")

    def load(self, policy: str) -> dict[tuple[str, str], tuple[int, int]]:
        if self.down:
            raise StoreUnavailableError("connection refused")
        return {("comedy", "new"): (5, 1)}

    def close(self) -> None:
        pass


def test_a_failed_periodic_refresh_keeps_sampling_the_last_counts() -> None:
    away = _Away()
    store = BetaStore(away, "rows", refresh_s=0.0)
    away.down = True
    assert store.counts("comedy", "new") == (5, 1)  # the refresh failed quietly; the copy stands
    with pytest.raises(StoreUnavailableError):
        store.add([("comedy", "new", 1, 0)])
    assert store.counts("comedy", "new") == (5, 1)  # a failed write leaves the copy as it was
