from __future__ import annotations

import numpy as np

from retrieval import ALSConfig, ALSModel
from tests.retrieval.blocks import ROMANCE, SPACE, block_interactions

# The data has rank 2 (two disjoint blocks), so two factors recover it exactly.
CONFIG = ALSConfig(
    factors=2, regularization=0.1, alpha=5.0, iterations=30, weighting="binary", half_life_days=None
)


def test_folded_in_user_gets_their_own_block_first() -> None:
    model = ALSModel.fit(block_interactions(), CONFIG)
    vector = model.user_vector(np.array([100, 101]), np.array([5.0, 5.0], np.float32))
    assert vector is not None
    scores = model.item_factors @ vector
    ranked = [int(model.item_ids[i]) for i in np.argsort(-scores) if model.item_ids[i] not in (100, 101)]
    assert ranked[0] in SPACE
    assert set(ranked[:3]) == set(SPACE) - {100, 101}
    assert max(scores[np.isin(model.item_ids, ROMANCE)]) < min(
        scores[np.isin(model.item_ids, [102, 103, 104])]
    )


def test_unknown_history_folds_to_none() -> None:
    model = ALSModel.fit(block_interactions(), CONFIG)
    assert model.user_vector(np.array([999]), np.array([5.0], np.float32)) is None


def test_save_and_load_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = ALSModel.fit(block_interactions(), CONFIG)
    model.save(tmp_path / "als.npz")
    loaded = ALSModel.load(tmp_path / "als.npz")
    assert loaded.config == CONFIG
    np.testing.assert_array_equal(loaded.item_ids, model.item_ids)
    items, ratings = np.array([200, 201]), np.array([5.0, 4.0], np.float32)
    np.testing.assert_allclose(
        loaded.user_vector(items, ratings), model.user_vector(items, ratings), atol=1e-5
    )
    # No pickle in the artifact: numpy must read it with pickles disabled.
    with np.load(tmp_path / "als.npz", allow_pickle=False) as data:
        assert set(data.files) == {"item_ids", "item_factors", "config"}


def test_item_similarity_scores_titles_watched_together(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from retrieval import ItemSimilarity

    similarity = ItemSimilarity.fit(block_interactions(), neighbours=10)
    total, best = similarity.scores(np.array([100, 101]), np.array([102, 200, 999]))
    assert total[0] > 0 and best[0] > 0  # same block: watched together
    assert total[1] == 0 and best[1] == 0  # other block: never together
    assert total[2] == 0  # unknown title
    # Columns looked up by the caller (as the feature builder maps its catalog once) give the same.
    columns = similarity.columns(np.array([102, 200, 999]))
    assert columns[2] == -1
    again = similarity.scores(np.array([100, 101]), np.array([102, 200, 999]), columns=columns)
    np.testing.assert_array_equal(again[0], total)
    np.testing.assert_array_equal(again[1], best)
    similarity.save(tmp_path / "sim.npz")
    loaded = ItemSimilarity.load(tmp_path / "sim.npz")
    np.testing.assert_allclose(
        loaded.scores(np.array([100]), np.array([102]))[0],
        similarity.scores(np.array([100]), np.array([102]))[0],
    )


def test_fold_in_is_kept_per_profile_and_recomputed_for_any_other_input() -> None:
    config = CONFIG.model_copy(update={"half_life_days": 30.0, "weighting": "rating"})
    model = ALSModel.fit(block_interactions(), config)
    items, ratings, stamps = np.array([100, 101]), np.array([5.0, 3.0], np.float32), np.array([0, 86_400])
    first = model.user_vector(items, ratings, stamps, 86_400.0)
    assert first is not None and not first.flags.writeable
    assert model.user_vector(items, ratings, stamps, 86_400.0) is first
    # Each input changes the fold-in, so each must miss the kept vector and give its own.
    others = [
        model.user_vector(np.array([100, 102]), ratings, stamps, 86_400.0),
        model.user_vector(items, np.array([5.0, 5.0], np.float32), stamps, 86_400.0),
        model.user_vector(items, ratings, np.array([86_400, 0]), 86_400.0),
        model.user_vector(items, ratings, stamps, 90 * 86_400.0),
        model.user_vector(items, ratings, None, 86_400.0),
    ]
    for other in others:
        assert other is not None and other is not first
        assert not np.allclose(other, first)
    fresh = ALSModel.fit(block_interactions(), config)
    np.testing.assert_allclose(fresh.user_vector(items, ratings, stamps, 86_400.0), first, atol=1e-6)
