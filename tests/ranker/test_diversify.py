"""MMR, genre caps and exploration on tiny candidate sets whose right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from ranker.diversify import explore, intra_list_diversity, mmr


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _clusters(sizes: list[int], *, dim: int = 16, noise: float = 0.01, seed: int = 0) -> np.ndarray:
    """Unit vectors in near-duplicate clusters: cluster c sits around basis vector e_c."""
    rng = np.random.default_rng(seed)
    rows = [
        np.eye(dim)[c] + noise * rng.standard_normal(dim) for c, size in enumerate(sizes) for _ in range(size)
    ]
    return _unit(np.array(rows))


def _ids(n: int) -> np.ndarray:
    return np.arange(100, 100 + n, dtype=np.int64)


def test_near_duplicates_do_not_share_the_top_of_a_row() -> None:
    # Items 0 and 1 are near-duplicates holding the two highest relevances; 2 and 3 are another cluster.
    vectors = _clusters([2, 2])
    relevance = np.array([1.0, 0.99, 0.8, 0.7])
    picks = mmr(ids=_ids(4), relevance=relevance, vectors=vectors, k=2, trade_off=0.5)
    assert picks.tolist() == [0, 2]


def test_every_cluster_appears_before_any_repeats() -> None:
    vectors = _clusters([3, 3, 3])
    relevance = np.array([1.0, 0.98, 0.96, 0.6, 0.58, 0.56, 0.3, 0.28, 0.26])
    picks = mmr(ids=_ids(9), relevance=relevance, vectors=vectors, k=3, trade_off=0.5)
    assert sorted(int(p) // 3 for p in picks) == [0, 1, 2]


def test_trade_off_one_is_pure_relevance_order() -> None:
    rng = np.random.default_rng(1)
    relevance = rng.random(50)
    vectors = _clusters([25, 25])
    picks = mmr(ids=_ids(50), relevance=relevance, vectors=vectors, k=10, trade_off=1.0)
    assert picks.tolist() == np.argsort(-relevance)[:10].tolist()


def test_picks_are_distinct_and_k_is_bounded_by_the_pool() -> None:
    vectors = _clusters([2, 2])
    relevance = np.array([0.4, 0.3, 0.2, 0.1])
    picks = mmr(ids=_ids(4), relevance=relevance, vectors=vectors, k=10, trade_off=0.7)
    assert sorted(picks.tolist()) == [0, 1, 2, 3]
    assert mmr(ids=_ids(4), relevance=relevance, vectors=vectors, k=0, trade_off=0.7).tolist() == []
    empty = mmr(ids=_ids(0), relevance=np.array([]), vectors=np.zeros((0, 16)), k=5, trade_off=0.7)
    assert empty.tolist() == []


def test_equal_relevance_still_diversifies() -> None:
    vectors = _clusters([2, 2])
    picks = mmr(ids=_ids(4), relevance=np.full(4, 3.0), vectors=vectors, k=2, trade_off=0.5)
    assert sorted(int(p) // 2 for p in picks) == [0, 1]


def test_genre_cap_holds_while_alternatives_remain() -> None:
    genres = [("Comedy",)] * 5 + [("Drama", "Comedy")] * 3
    relevance = np.linspace(1.0, 0.3, 8)  # every comedy outranks every drama
    vectors = _unit(np.ones((8, 4)) + 0.01 * np.arange(32).reshape(8, 4))
    picks = mmr(
        ids=_ids(8), relevance=relevance, vectors=vectors, k=4, trade_off=1.0, genres=genres, genre_cap=2
    )
    assert picks.tolist() == [0, 1, 5, 6]


def test_genre_cap_relaxes_when_nothing_else_fits() -> None:
    genres = [("Comedy",)] * 3 + [("Drama",)]
    relevance = np.array([1.0, 0.9, 0.8, 0.1])
    vectors = _clusters([4])
    picks = mmr(
        ids=_ids(4), relevance=relevance, vectors=vectors, k=4, trade_off=1.0, genres=genres, genre_cap=1
    )
    assert picks.tolist() == [0, 3, 1, 2]


def test_titles_without_genres_are_never_capped() -> None:
    genres: list[tuple[str, ...]] = [(), (), ("Comedy",), ("Comedy",)]
    relevance = np.array([1.0, 0.9, 0.8, 0.7])
    picks = mmr(
        ids=_ids(4),
        relevance=relevance,
        vectors=_clusters([4]),
        k=3,
        trade_off=1.0,
        genres=genres,
        genre_cap=1,
    )
    assert picks.tolist() == [0, 1, 2]


def _reference_mmr(
    relevance: np.ndarray, vectors: np.ndarray, k: int, trade_off: float, primary: list[str | None], cap: int
) -> list[int]:
    """MMR as its definition reads: every step rescores all candidates from scratch."""
    span = relevance.max() - relevance.min()
    gain = trade_off * ((relevance - relevance.min()) / span if span > 0 else np.ones_like(relevance))
    picks: list[int] = []
    for _ in range(min(k, len(relevance))):
        left = [i for i in range(len(relevance)) if i not in picks]
        counts = {g: sum(primary[p] == g for p in picks) for g in set(primary) if g is not None}
        uncapped = [i for i in left if primary[i] is None or counts[primary[i]] < cap]
        score = gain.copy()
        if picks:
            # One mat-vec per pick, as in mmr: a matrix product may round differently and flip ties.
            score = gain - (1.0 - trade_off) * np.max([vectors @ vectors[p] for p in picks], axis=0)
        best = max(uncapped or left, key=lambda i: (score[i], -i))  # first of equals, as argmax
        picks.append(best)
    return picks


@pytest.mark.parametrize("seed", range(40))
def test_mmr_matches_a_from_scratch_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    # Few distinct relevances and duplicated vectors, so ties (first index wins) are common.
    relevance = rng.integers(0, 4, n).astype(np.float64)
    vectors = _unit(rng.integers(-1, 2, (n, 3)).astype(np.float64) + 0.5)
    names = [("A",), ("B", "A"), ("C",), ()]
    genres = [names[int(g)] for g in rng.integers(0, len(names), n)]
    primary = [g[0] if g else None for g in genres]
    k, cap, trade_off = (
        int(rng.integers(0, n + 3)),
        int(rng.integers(1, 5)),
        float(rng.choice([0.0, 0.5, 0.7])),
    )
    picks = mmr(
        ids=_ids(n),
        relevance=relevance,
        vectors=vectors,
        k=k,
        trade_off=trade_off,
        genres=genres,
        genre_cap=cap,
    )
    assert picks.tolist() == _reference_mmr(relevance, vectors, k, trade_off, primary, cap)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trade_off": 1.5}, r"trade_off must be in \[0, 1\].*1.5"),
        ({"k": -1}, r"k must be >= 0; got -1"),
        ({"genre_cap": 2}, r"genre_cap needs one genres tuple per candidate \(4\); got None"),
        ({"genre_cap": 0, "genres": [("A",)] * 4}, r"genre_cap must be >= 1 or None"),
        ({"relevance": np.ones(3)}, r"must align row for row; got 4, 3, 4"),
    ],
)
def test_mmr_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "ids": _ids(4),
        "relevance": np.ones(4),
        "vectors": _clusters([4]),
        "k": 2,
        "trade_off": 0.5,
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        mmr(**args)  # type: ignore[arg-type]


def test_explore_never_fires_at_epsilon_zero() -> None:
    picked = np.array([3, 1, 4])
    out = explore(
        picked=picked,
        pool=np.arange(10),
        uncertainty=np.arange(10.0),
        epsilon=0.0,
        rng=np.random.default_rng(0),
        slot=1,
    )
    assert out.tolist() == [3, 1, 4]


def test_explore_puts_the_most_uncertain_unpicked_item_at_the_slot() -> None:
    picked = np.array([3, 1, 4, 9])
    uncertainty = np.arange(10.0)  # 9 is the most uncertain but already picked, so 8 is next
    out = explore(
        picked=picked,
        pool=np.arange(10),
        uncertainty=uncertainty,
        epsilon=1.0,
        rng=np.random.default_rng(0),
        slot=2,
    )
    assert out.tolist() == [3, 1, 8, 4]
    assert out[2] != picked[2]  # the caller's mark: "something different" sits at the slot


def test_explore_clamps_the_slot_and_gives_up_when_the_pool_is_spent() -> None:
    rng = np.random.default_rng(0)
    out = explore(
        picked=np.array([5, 6]), pool=np.arange(8), uncertainty=np.ones(8), epsilon=1.0, rng=rng, slot=9
    )
    assert out.tolist() == [5, 0]
    spent = explore(
        picked=np.array([0, 1]), pool=np.array([1, 0]), uncertainty=np.ones(2), epsilon=1.0, rng=rng, slot=0
    )
    assert spent.tolist() == [0, 1]


def test_explore_fires_at_about_epsilon_and_reproducibly() -> None:
    def fired(seed: int) -> list[bool]:
        rng = np.random.default_rng(seed)
        picked = np.array([0, 1, 2])
        return [
            bool(
                explore(
                    picked=picked,
                    pool=np.arange(20),
                    uncertainty=np.arange(20.0),
                    epsilon=0.2,
                    rng=rng,
                    slot=1,
                )[1]
                != 1
            )
            for _ in range(2_000)
        ]

    assert fired(3) == fired(3)
    assert np.mean(fired(3)) == pytest.approx(0.2, abs=0.03)


def test_explore_rejects_a_bad_epsilon() -> None:
    with pytest.raises(ValueError, match=r"epsilon must be in \[0, 1\]; got -0.1"):
        explore(
            picked=np.array([0]),
            pool=np.arange(2),
            uncertainty=np.ones(2),
            epsilon=-0.1,
            rng=np.random.default_rng(0),
            slot=0,
        )


def test_intra_list_diversity() -> None:
    assert intra_list_diversity(np.ones((3, 4))) == pytest.approx(0.0)
    assert intra_list_diversity(np.eye(4)) == pytest.approx(1.0)
    assert intra_list_diversity(np.array([[2.0, 0.0], [0.0, 5.0]])) == pytest.approx(1.0)  # scale-free
    assert intra_list_diversity(np.ones((1, 4))) == 0.0
    assert intra_list_diversity(_clusters([2, 2])) == pytest.approx(2 / 3, abs=0.02)
