"""Stage-2 features on a tiny world whose right answers are known: a space block and a romance block."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from catalog import Context, History, Interactions, Title
from ranker.features import NO_HISTORY_DAYS, FeatureBuilder, TitleStats
from retrieval import (
    SOURCES,
    ALSConfig,
    ALSModel,
    Candidate,
    CandidateSet,
    UserNeighbours,
    VAEConfig,
    VAEModel,
    merge,
)

NOW = datetime(2024, 3, 6, 13, 30, tzinfo=UTC).timestamp()  # a Wednesday, 13:30 UTC
DAY = 86_400
GENRES = ("Adventure", "Comedy", "Documentary", "Romance", "Sci-Fi")
SPACE, ROMANCE = (1, 2, 3), (4, 5, 6)
DOC = 7  # in the catalog, never watched: no ALS factor


def _titles() -> dict[int, Title]:
    return {
        1: Title(1, "Space A", 1990, ("Sci-Fi", "Adventure"), overview="Ships.", runtime=120),
        2: Title(2, "Space B", 2000, ("Sci-Fi",), runtime=100),
        3: Title(3, "Space C", None, ("Sci-Fi",)),
        4: Title(4, "Love A", 2010, ("Romance",), overview="Hearts."),
        5: Title(5, "Love B", 2015, ("Romance", "Comedy")),
        6: Title(6, "Love C", 2020, ("Romance",)),
        7: Title(7, "Docu", 2022, ("Documentary",)),
    }


def _interactions() -> Interactions:
    """Ten viewers per block, each rating their block's three titles; one title-1 play every 10 days."""
    users, items = [], []
    for u in range(20):
        for t in SPACE if u < 10 else ROMANCE:
            users.append(u)
            items.append(t)
    stamps = NOW - np.arange(len(users)) * 10 * DAY
    return Interactions.from_arrays(np.array(users), np.array(items), np.full(len(users), 4.5), stamps)


def _content() -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors: title 2 equals title 1 exactly; the romance titles are orthogonal to both."""
    vectors = {
        1: [1, 0, 0, 0],
        2: [1, 0, 0, 0],
        3: [0.8, 0.6, 0, 0],
        4: [0, 0, 1, 0],
        5: [0, 0, 0.6, 0.8],
        6: [0, 0, 0, 1],
        7: [0, 1, 0, 0],
    }
    ids = np.array(sorted(vectors, reverse=True), np.int64)  # unsorted on purpose
    return ids, np.array([vectors[int(t)] for t in ids], np.float32)


@pytest.fixture(scope="module")
def builder() -> FeatureBuilder:
    inter = _interactions()
    als = ALSModel.fit(
        inter,
        ALSConfig(
            factors=2, regularization=0.1, alpha=5.0, iterations=30, weighting="binary", half_life_days=None
        ),
    )
    stats = TitleStats.from_interactions(inter, np.array(sorted(_titles())), now=NOW)
    ids, content = _content()
    return FeatureBuilder(
        titles=_titles(),
        stats=stats,
        als=als,
        content_ids=ids,
        content=content,
        genres=GENRES,
        neighbours=UserNeighbours.fit(inter),
        vae=VAEModel.fit(inter, VAEConfig(hidden=16, latent=4, epochs=150, batch=10, learning_rate=1e-2)),
    )


def _candidates() -> CandidateSet:
    def c(t: int, source: str, rank: int) -> Candidate:
        return Candidate(t, source, 1.0 / (rank + 1), rank, reason=source)

    return merge(
        [
            [c(2, "als", 0), c(3, "als", 1)],
            [c(2, "content", 0), c(4, "content", 1)],
            [c(4, "popular", 0), c(DOC, "popular", 1), c(999, "popular", 2)],
        ]
    )


def _context(items: tuple[int, ...] = (1,), device: str | None = "tv") -> Context:
    history = History(
        items=np.array(items, np.int64),
        weights=np.full(len(items), 5.0, np.float32),
        timestamps=np.full(len(items), NOW - 2 * DAY, np.int64),
    )
    return Context(profile_id="p", history=history, now=NOW, device=device)


def _frame(
    builder: FeatureBuilder, context: Context, candidates: CandidateSet
) -> dict[str, dict[int, float]]:
    """Feature name -> title id -> value."""
    X = builder.build(context=context, candidates=candidates)
    assert X.shape == (len(candidates), len(builder.names)) and X.dtype == np.float32
    assert np.isfinite(X).all()
    return {
        n: {int(t): float(v) for t, v in zip(candidates.ids, X[:, j], strict=True)}
        for j, n in enumerate(builder.names)
    }


def test_names_are_unique_and_cover_every_group(builder: FeatureBuilder) -> None:
    assert len(set(builder.names)) == len(builder.names)
    for name in ("title_pop_log_all", "title_pop_log_365d", "title_pop_log_30d", "genre_sci_fi", "n_sources"):
        assert name in builder.names
    assert all(f"src_{s}" in builder.names and f"src_{s}_rank" in builder.names for s in SOURCES.names)


def test_source_flags_and_ranks_follow_the_provenance(builder: FeatureBuilder) -> None:
    candidates = _candidates()
    f = _frame(builder, _context(), candidates)
    for title, _, proposals in candidates:
        by_source = {c.source: c.rank for c in proposals}
        for s in SOURCES.names:
            assert f[f"src_{s}"][title] == float(s in by_source)
            assert f[f"src_{s}_rank"][title] == (by_source[s] + 1 if s in by_source else 0)
        assert f["n_sources"][title] == len(by_source)
    assert f["src_als_rank"][3] == 2 and f["src_content_rank"][4] == 2 and f["src_als_rank"][4] == 0
    np.testing.assert_allclose(list(f["rrf_score"].values()), candidates.scores, rtol=1e-6)


def test_a_repeated_source_keeps_its_best_rank_and_an_unknown_source_only_counts(
    builder: FeatureBuilder,
) -> None:
    # Title 2 proposed twice by the similar source (two anchors) and once by a source with no columns.
    similar = [Candidate(2, "similar", 0.5, 4, "a", anchor=1), Candidate(2, "similar", 0.9, 1, "b", anchor=3)]
    candidates = CandidateSet(
        ids=np.array([2, 4]),
        scores=np.array([0.2, 0.1]),
        provenance=((*similar, Candidate(2, "editorial", 1.0, 0, "c")), (Candidate(4, "new", 1.0, 7, "d"),)),
    )
    f = _frame(builder, _context(), candidates)
    assert f["src_similar"][2] == 1.0 and f["src_similar_rank"][2] == 2.0 and f["n_sources"][2] == 2.0
    assert f["src_new_rank"] == {2: 0.0, 4: 8.0} and f["n_sources"][4] == 1.0


def test_genre_match_and_affinity(builder: FeatureBuilder) -> None:
    f = _frame(builder, _context(), _candidates())
    assert f["genre_match"] == {2: 1.0, 3: 1.0, 4: 0.0, DOC: 0.0, 999: 0.0}
    assert f["genre_affinity"][2] == 1.0 and f["genre_affinity"][4] == 0.0
    # Two liked titles, Sci-Fi and Romance: a Romance candidate matches half of them.
    mixed = _frame(builder, _context(items=(1, 6)), _candidates())
    assert mixed["genre_match"][4] == 0.5 and mixed["genre_match"][2] == 0.5
    assert mixed["genre_sci_fi"] == {2: 1.0, 3: 1.0, 4: 0.0, DOC: 0.0, 999: 0.0}


def test_content_similarity_prefers_the_identical_vector(builder: FeatureBuilder) -> None:
    f = _frame(builder, _context(), _candidates())
    assert f["content_sim_profile"][2] == pytest.approx(1.0)
    assert f["content_sim_profile"][3] == pytest.approx(0.8)
    assert f["content_sim_profile"][4] == pytest.approx(0.0)
    assert f["content_sim_recent_max"][2] == pytest.approx(1.0)
    assert f["content_sim_profile"][999] == 0.0  # no content vector


def test_als_and_item_item_stay_in_the_viewers_block(builder: FeatureBuilder) -> None:
    f = _frame(builder, _context(), _candidates())
    assert f["als_score"][2] > f["als_score"][4] and f["als_missing"][2] == 0.0
    assert f["item_item_score"][2] > 0.9 > f["item_item_score"][4]
    assert f["als_missing"][DOC] == 1.0 and f["als_score"][DOC] == 0.0 and f["item_item_score"][DOC] == 0.0


def test_user_neighbours_vote_within_the_viewers_block(builder: FeatureBuilder) -> None:
    # A profile that watched space title 1: every space viewer watched 2 and 3, no one else did.
    f = _frame(builder, _context(), _candidates())
    assert f["user_knn_share"][2] == pytest.approx(1.0) and f["user_knn_share"][3] == pytest.approx(1.0)
    assert f["user_knn_share"][4] == 0.0 and f["user_knn_share"][DOC] == 0.0
    assert f["user_knn_rank_log"][2] < f["user_knn_rank_log"][4] <= f["user_knn_rank_log"][999]


def test_the_vae_scores_the_viewers_block_first_and_unknown_titles_last(builder: FeatureBuilder) -> None:
    f = _frame(builder, _context(), _candidates())
    assert f["vae_score"][2] > f["vae_score"][4] and f["vae_log_prob"][2] > f["vae_log_prob"][4]
    assert f["vae_log_prob"][2] < 0.0  # a log-probability among the unseen titles
    # Titles 2 and 3 rank 0 and 1 among the unseen ones; 999 has no column and ranks last.
    rank = {t: round(float(np.expm1(v))) for t, v in f["vae_rank_log"].items()}
    assert rank[2] <= 1 < rank[4] < rank[999]
    assert f["vae_score"][999] == 0.0


def test_title_and_context_columns(builder: FeatureBuilder) -> None:
    f = _frame(builder, _context(device="Tablet"), _candidates())
    assert f["title_age_years"][2] == 24 and f["title_age_missing"][2] == 0.0
    assert f["title_age_missing"][3] == 1.0 and f["title_age_years"][3] == 2024 - 2012.5  # median year
    assert f["title_has_overview"] == {2: 0.0, 3: 0.0, 4: 1.0, DOC: 0.0, 999: 0.0}
    assert f["title_runtime"][2] == 100 and f["title_runtime_missing"][3] == 1.0
    assert f["title_mean_rating"][2] == 4.5 and f["title_rating_count_log"][2] == pytest.approx(np.log1p(10))
    assert f["title_mean_rating"][DOC] == 0.0 and f["title_pop_log_all"][DOC] == 0.0
    # A title outside the catalog reads as one with no counts and no metadata.
    assert (f["title_age_missing"][999], f["title_age_years"][999]) == (1.0, 2024 - 2012.5)
    assert (f["title_runtime_missing"][999], f["title_runtime"][999]) == (1.0, 0.0)
    assert (f["title_pop_log_all"][999], f["title_rating_count_log"][999]) == (0.0, 0.0)
    assert (f["ctx_hour"][2], f["ctx_weekday"][2], f["ctx_device"][2]) == (13.0, 2.0, 4.0)
    assert f["user_history_log"][2] == pytest.approx(np.log1p(1)) and f["user_days_since_last"][2] == 2.0
    assert f["user_mean_rating"][2] == 5.0 and f["user_explicit"][2] == 1.0


def test_empty_history_and_unknown_device_give_finite_neutral_rows(builder: FeatureBuilder) -> None:
    f = _frame(builder, _context(items=(), device="fridge"), _candidates())
    assert set(f["als_missing"].values()) == {1.0}
    assert set(f["content_sim_profile"].values()) == {0.0} and set(f["genre_match"].values()) == {0.0}
    assert set(f["user_days_since_last"].values()) == {NO_HISTORY_DAYS}
    assert set(f["ctx_device"].values()) == {0.0} and set(f["user_explicit"].values()) == {0.0}


def test_implicit_history_counts_every_item_as_liked(builder: FeatureBuilder) -> None:
    history = History(items=np.array([1]), weights=np.array([np.nan], np.float32), timestamps=np.array([-1]))
    f = _frame(builder, Context(profile_id="p", history=history, now=NOW), _candidates())
    assert f["genre_match"][2] == 1.0 and f["user_explicit"][2] == 0.0 and f["user_mean_rating"][2] == 0.0
    assert f["user_days_since_last"][2] == NO_HISTORY_DAYS  # untimed: no notion of recency


def test_empty_candidate_set(builder: FeatureBuilder) -> None:
    X = builder.build(context=_context(), candidates=merge([]))
    assert X.shape == (0, len(builder.names))


def test_title_stats_windows_count_only_recent_interactions(tmp_path: Path) -> None:
    stamps = np.array([NOW - 5 * DAY, NOW - 100 * DAY, NOW - 400 * DAY, NOW - 1 * DAY, NOW + DAY])
    inter = Interactions.from_arrays(
        np.arange(5), np.array([1, 1, 1, 2, 2]), np.array([5, 3, np.nan, 4, 4]), stamps.astype(np.int64)
    )
    stats = TitleStats.from_interactions(inter, np.array([3, 2, 1]), now=NOW)
    assert list(stats.ids) == [1, 2, 3] and list(stats.popularity) == ["all", "365d", "30d"]
    assert list(stats.popularity["all"]) == [3, 2, 0]
    assert list(stats.popularity["365d"]) == [2, 1, 0]  # the future interaction is outside every window
    assert list(stats.popularity["30d"]) == [1, 1, 0]
    np.testing.assert_array_equal(stats.mean_rating, [4.0, 4.0, np.nan])
    assert list(stats.rating_count) == [2, 2, 0]
    stats.save(tmp_path / "stats.npz")
    loaded = TitleStats.load(tmp_path / "stats.npz")
    assert list(loaded.popularity) == list(stats.popularity)
    for name, counts in stats.popularity.items():
        np.testing.assert_array_equal(loaded.popularity[name], counts)
    np.testing.assert_array_equal(loaded.mean_rating, stats.mean_rating)


def test_untimed_windows_equal_all() -> None:
    inter = Interactions.from_arrays(np.arange(3), np.array([1, 1, 2]))
    stats = TitleStats.from_interactions(inter, np.array([1, 2]), now=NOW)
    for window in ("365d", "30d"):
        np.testing.assert_array_equal(stats.popularity[window], stats.popularity["all"])
    assert np.isnan(stats.mean_rating).all()


def test_colliding_genre_names_are_refused(builder: FeatureBuilder) -> None:
    inter = _interactions()
    stats = TitleStats.from_interactions(inter, np.array([1]), now=NOW)
    als = ALSModel.fit(
        inter,
        ALSConfig(
            factors=2, iterations=2, regularization=0.05, alpha=2.0, weighting="binary", half_life_days=None
        ),
    )
    with pytest.raises(ValueError, match="collide"):
        FeatureBuilder(
            titles=_titles(), stats=stats, als=als, content_ids=np.array([1]), content=np.ones((1, 4)),
            genres=("Sci-Fi", "sci fi"),
        )  # fmt: skip
