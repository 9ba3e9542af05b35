"""The artwork and row-order bandits learn known best arms, persist, and never lose a count."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ranker.artwork import VARIANTS
from ranker.bandits import NEW_SEGMENT, POOL_STRENGTH, SEGMENTS, ArtworkBandit, RowOrderBandit, taste_segment

# Known answer: segment i's best variant is VARIANTS[i % 4], taken 25 % of the time; every other 5 %.
TAKE = np.full((len(SEGMENTS), len(VARIANTS)), 0.05)
for _s in range(len(SEGMENTS)):
    TAKE[_s, _s % len(VARIANTS)] = 0.25


def test_artwork_bandit_finds_each_segments_best_variant() -> None:
    rng = np.random.default_rng(3)
    learn, judge = 4_000, 1_800
    segments = rng.integers(len(SEGMENTS), size=learn + judge)
    titles = rng.integers(30, size=learn + judge)
    best_picks = np.zeros(len(SEGMENTS))
    seen = np.zeros(len(SEGMENTS))
    taken = 0
    with ArtworkBandit.open() as bandit:
        for i, (s, t) in enumerate(zip(segments.tolist(), titles.tolist(), strict=True)):
            variant = bandit.choose(title_id=t, segment=SEGMENTS[s], variants=VARIANTS, rng=rng)
            v = VARIANTS.index(variant)
            reward = bool(rng.random() < TAKE[s, v])
            bandit.update(title_id=t, segment=SEGMENTS[s], variant=variant, reward=reward)
            taken += reward
            if i >= learn:
                seen[s] += 1
                best_picks[s] += v == s % len(VARIANTS)
    assert (best_picks / seen > 0.8).all(), best_picks / seen
    uniform = TAKE.mean(axis=1)[segments].mean()  # the expected take rate of a random variant on this stream
    assert taken / len(segments) > uniform + 0.05


def test_unseen_title_borrows_its_segments_preference() -> None:
    with ArtworkBandit.open() as bandit:
        for title in range(50):
            for variant in VARIANTS:
                for k in range(10):
                    reward = variant == "mood" and k < 5  # mood: 50 %, the rest: 0 %
                    bandit.update(title_id=title, segment="dark", variant=variant, reward=reward)
        rng = np.random.default_rng(0)
        picks = [bandit.choose(title_id=999, segment="dark", variants=VARIANTS, rng=rng) for _ in range(200)]
        assert picks.count("mood") > 180
        alpha, beta = bandit.posterior(999, "dark", "mood")
        assert alpha + beta == pytest.approx(2 + 100)  # the pool is capped at POOL_STRENGTH pseudo-counts
        # Another segment has seen nothing, so a new title there starts from the flat prior.
        assert bandit.posterior(999, "comedy", "mood") == (1.0, 1.0)


def test_clusters_share_one_posterior() -> None:
    with ArtworkBandit.open() as bandit:
        bandit.update(title_id=1, segment="drama", variant="cast", reward=True, cluster=5)
        bandit.update(title_id=2, segment="drama", variant="cast", reward=True, cluster=5)
        assert bandit.posterior(3, "drama", "cast", cluster=5) > bandit.posterior(3, "drama", "cast")


def test_posteriors_persist_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "bandits.sqlite"
    with ArtworkBandit.open(path) as bandit, RowOrderBandit.open(path) as rows:
        for reward in (True, False, False):
            bandit.update(title_id=1, segment="scifi", variant="mood", reward=reward)
        rows.update("scifi", "trending", True)
        before = bandit.posterior(1, "scifi", "mood")
    with ArtworkBandit.open(path) as bandit, RowOrderBandit.open(path) as rows:
        assert bandit.posterior(1, "scifi", "mood") == before
        assert rows.posterior("scifi", "trending") == (2.0, 1.0)
        assert rows.posterior("scifi", "mood") == (1.0, 1.0)  # policies do not see each other's counts
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


def test_threads_sharing_a_bandit_lose_no_counts() -> None:
    with ArtworkBandit.open() as bandit:
        _hammer(lambda: bandit)
        assert bandit.posterior(1, "action", "cast") == EXPECTED


def test_separate_connections_to_one_file_lose_no_counts(tmp_path: Path) -> None:
    """One connection per thread stands in for separate processes: the increments are upserts."""
    path = tmp_path / "shared.sqlite"
    opened: list[ArtworkBandit] = []
    lock = threading.Lock()

    def connect() -> ArtworkBandit:
        with lock:
            opened.append(ArtworkBandit.open(path))
            return opened[-1]

    _hammer(connect)
    for bandit in opened:
        bandit.close()
    with ArtworkBandit.open(path) as bandit:
        assert bandit.posterior(1, "action", "cast") == EXPECTED


def test_refresh_folds_in_another_writers_counts(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    with ArtworkBandit.open(path) as reader, ArtworkBandit.open(path) as writer:
        writer.update(title_id=1, segment="family", variant="cast", reward=True)
        assert reader.posterior(1, "family", "cast") == (1.0, 1.0)
        reader.refresh()
        assert reader.posterior(1, "family", "cast") == writer.posterior(1, "family", "cast")


def test_choose_needs_variants() -> None:
    with ArtworkBandit.open() as bandit, pytest.raises(ValueError, match="title 4"):
        bandit.choose(title_id=4, segment="dark", variants=(), rng=np.random.default_rng(0))


def test_row_order_raises_the_engaging_kind_and_keeps_pinned_on_top() -> None:
    kinds = ["continue_watching", "popular", "trending", "new", "because_you_watched", "genre"]
    with RowOrderBandit.open() as rows:
        for _ in range(60):
            for kind in kinds:
                rows.update("comedy", kind, kind == "new")
        rng = np.random.default_rng(1)
        orders = [
            rows.order("comedy", kinds, rng, pinned=("my_list", "continue_watching")) for _ in range(50)
        ]
        assert all(order[0] == "continue_watching" for order in orders)  # "my_list" is not on this page
        assert all(sorted(order) == sorted(kinds) for order in orders)
        assert sum(order[1] == "new" for order in orders) == 50
        # An unseen segment gives every kind an equal chance: the order varies between requests.
        firsts = {rows.order("drama", kinds, rng)[0] for _ in range(50)}
        assert len(firsts) > 3
        assert rows.order("drama", ["b", "a"], rng, pinned=("a", "b")) == ["a", "b"]


def test_row_order_rejects_repeated_kinds() -> None:
    with RowOrderBandit.open() as rows, pytest.raises(ValueError, match="repeated: popular"):
        rows.order("comedy", ["popular", "new", "popular"], np.random.default_rng(0))


@pytest.mark.parametrize(
    ("counts", "segment"),
    [
        ({}, NEW_SEGMENT),
        ({"Horror": 0}, NEW_SEGMENT),
        ({"IMAX": 4, "(no genres listed)": 1}, NEW_SEGMENT),
        ({"Horror": 3, "Thriller": 2, "Drama": 4}, "dark"),
        ({"Drama": 10, "Sci-Fi": 6}, "scifi"),  # sci-fi is rarer, so six of them say more than ten dramas
        ({"Children's": 2, "Animation": 1, "Comedy": 2}, "family"),
        ({"science fiction": 1.5}, "scifi"),
    ],
)
def test_taste_segment(counts: dict[str, float], segment: str) -> None:
    assert taste_segment(counts) == segment


# After _hammer: 400 successes and 600 failures, in the title's own counts and (scaled) in the pool.
EXPECTED = (1 + 400 + 400 * POOL_STRENGTH / 1000, 1 + 600 + 600 * POOL_STRENGTH / 1000)


def _hammer(bandit_for_thread: Callable[[], ArtworkBandit]) -> None:
    """Four threads, each 100 successes and 150 failures for the same cell."""
    barrier = threading.Barrier(4)

    def work() -> None:
        bandit = bandit_for_thread()
        barrier.wait()
        for i in range(250):
            bandit.update(title_id=1, segment="action", variant="cast", reward=i % 5 < 2)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_choose_many_draws_a_page_like_choose_draws_one_title() -> None:
    with ArtworkBandit.open() as bandit:
        for _ in range(200):  # title 1: "mood" wins half the time, "cast" never; title 2 the other way
            bandit.update(title_id=1, segment="dark", variant="mood", reward=True)
            bandit.update(title_id=1, segment="dark", variant="cast", reward=False)
            bandit.update(title_id=2, segment="dark", variant="cast", reward=True)
            bandit.update(title_id=2, segment="dark", variant="mood", reward=False)
        rng = np.random.default_rng(0)
        variants = [("mood", "cast"), ("cast", "mood"), ("minimal",)]  # of unequal lengths
        picks = [
            bandit.choose_many(title_ids=[1, 2, 3], variants=variants, segment="dark", rng=rng)
            for _ in range(200)
        ]
        assert all(len(p) == 3 and p[2] == "minimal" for p in picks)  # a single variant is always it
        assert sum(p[0] == "mood" for p in picks) > 190 and sum(p[1] == "cast" for p in picks) > 190
        again = np.random.default_rng(0)
        assert (
            bandit.choose_many(title_ids=[1, 2, 3], variants=variants, segment="dark", rng=again) == picks[0]
        )
        assert bandit.choose_many(title_ids=[], variants=[], segment="dark", rng=rng) == []
        with pytest.raises(ValueError, match="one per title"):
            bandit.choose_many(title_ids=[1], variants=[], segment="dark", rng=rng)
        with pytest.raises(ValueError, match="at least one artwork variant"):
            bandit.choose_many(title_ids=[1], variants=[()], segment="dark", rng=rng)
