"""Stage-2 rankers on a known answer: one feature decides relevance, the rest is noise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ranker.ltr import (
    OBJECTIVES,
    LTRConfig,
    LTRRanker,
    ProfileLengthRanker,
    Ranker,
    SourceOrderRanker,
    choose_ranker,
    load_ranker,
    ndcg_at_k,
)

NAMES = ("noise_a", "noise_b", "noise_c", "signal", "rrf_score")
SMALL = LTRConfig(n_estimators=40, max_depth=3)
Split = tuple[np.ndarray, np.ndarray, np.ndarray]


def _groups(n_groups: int, seed: int, size: int = 20) -> Split:
    """Label 1 iff column 3 > 0.5; every group holds both labels."""
    rng = np.random.default_rng(seed)
    X = rng.random((n_groups * size, len(NAMES))).astype(np.float32)
    X[::size, 3] = 0.9  # at least one positive and one negative per group
    X[1::size, 3] = 0.1
    y = (X[:, 3] > 0.5).astype(np.float32)
    return X, y, np.repeat(np.arange(n_groups), size)


@pytest.fixture(scope="module")
def trained() -> LTRRanker:
    train, valid = _groups(60, seed=1), _groups(15, seed=2)
    return LTRRanker.fit(*train, names=NAMES, config=SMALL, eval_set=valid)


def test_positives_rank_above_negatives_in_every_held_out_group(trained: LTRRanker) -> None:
    X, y, groups = _groups(20, seed=3)
    scores = trained.score(X)
    for g in np.unique(groups):
        rows = groups == g
        assert scores[rows][y[rows] == 1].min() > scores[rows][y[rows] == 0].max()
    assert ndcg_at_k(y, scores, groups) == pytest.approx(1.0)


def test_the_deciding_feature_has_the_top_importance(trained: LTRRanker) -> None:
    importance = trained.importance()
    assert max(importance, key=importance.__getitem__) == "signal"
    assert trained.metrics["valid_ndcg@10"] == pytest.approx(1.0)


def test_save_load_round_trip_is_exact_and_pickle_free(trained: LTRRanker, tmp_path: Path) -> None:
    trained.save(tmp_path / "ltr")
    assert sorted(p.name for p in (tmp_path / "ltr").iterdir()) == ["ltr.json", "model.json"]
    for path in (tmp_path / "ltr").iterdir():
        json.loads(path.read_text())  # plain JSON, nothing a pickle loader could run
    loaded = LTRRanker.load(tmp_path / "ltr", names=NAMES)
    X = _groups(5, seed=4)[0]
    np.testing.assert_array_equal(loaded.score(X), trained.score(X))
    assert loaded.names == NAMES and loaded.config == SMALL and loaded.metrics == trained.metrics


def test_a_bag_is_one_model_scoring_the_mean_of_its_members(trained: LTRRanker, tmp_path: Path) -> None:
    other = LTRRanker.fit(*_groups(60, seed=8), names=NAMES, config=SMALL, eval_set=_groups(15, seed=9))
    bag = LTRRanker.bagged([trained, other])
    X = _groups(5, seed=4)[0]
    np.testing.assert_allclose(bag.score(X), (trained.score(X) + other.score(X)) / 2, rtol=1e-5, atol=1e-6)
    assert [m["trees"] for m in bag.metrics["members"]] == [trained.metrics["trees"], other.metrics["trees"]]
    assert bag.metrics["trees"] == trained.metrics["trees"] + other.metrics["trees"]
    bag.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(bag.files()) == ["ltr.json", "model.json"]
    np.testing.assert_array_equal(LTRRanker.load(tmp_path, names=NAMES).score(X), bag.score(X))
    assert max(bag.importance(), key=bag.importance().__getitem__) == "signal"


def test_a_bag_refuses_models_trained_otherwise(trained: LTRRanker) -> None:
    deeper = LTRRanker.fit(
        *_groups(60, seed=8), names=NAMES, config=SMALL.model_copy(update={"max_depth": 5})
    )
    with pytest.raises(ValueError, match="share their feature columns and configuration"):
        LTRRanker.bagged([trained, deeper])


def test_loading_with_other_feature_names_says_what_differs(trained: LTRRanker, tmp_path: Path) -> None:
    trained.save(tmp_path)
    with pytest.raises(ValueError, match=r"missing: \['signal'\].*unexpected: \['renamed'\]"):
        LTRRanker.load(tmp_path, names=("noise_a", "noise_b", "noise_c", "renamed", "rrf_score"))
    with pytest.raises(ValueError, match="different order"):
        LTRRanker.load(tmp_path, names=tuple(reversed(NAMES)))


def test_missing_artifact_degrades_to_source_order_and_says_so(trained: LTRRanker, tmp_path: Path) -> None:
    absent = load_ranker(tmp_path / "absent", names=NAMES)
    assert (absent.kind, absent.is_fallback) == ("source-order", True)
    trained.save(tmp_path / "ltr")
    loaded = load_ranker(tmp_path / "ltr", names=NAMES)
    assert (loaded.kind, loaded.is_fallback) == ("ltr", False)


def test_choose_ranker_keeps_the_best_objective_and_shape_on_validation() -> None:
    ranker, metrics = choose_ranker(
        _groups(40, seed=5), _groups(10, seed=6), names=NAMES, base=LTRConfig(n_estimators=10, max_depth=3)
    )
    assert metrics["chosen"] in OBJECTIVES and ranker.config.objective == metrics["chosen"]
    for objective in OBJECTIVES:
        assert 0.0 <= metrics[objective]["valid_ndcg@10"] <= 1.0
    best = max(metrics[o]["valid_ndcg@10"] for o in OBJECTIVES)
    assert metrics[metrics["chosen"]]["valid_ndcg@10"] == best
    assert len(metrics["shapes"]) == 3 and metrics["shapes"][0]["valid_ndcg@10"] == best
    kept = max(shape["valid_ndcg@10"] for shape in metrics["shapes"])
    assert ranker.metrics["valid_ndcg@10"] == kept >= best


def test_source_order_ranker_scores_by_the_fused_column() -> None:
    X = np.zeros((4, len(NAMES)), np.float32)
    X[:, 4] = [0.01, 0.05, 0.03, 0.02]
    X[:, 3] = [9, 0, 9, 0]  # the learned model's signal means nothing here
    assert list(np.argsort(-SourceOrderRanker(names=NAMES).score(X))) == [1, 2, 3, 0]


@pytest.mark.parametrize("kind", ["ltr", "source-order"])
def test_every_ranker_honours_the_protocol(kind: str, trained: LTRRanker) -> None:
    ranker: Ranker = trained if kind == "ltr" else SourceOrderRanker(names=NAMES)
    X = _groups(2, seed=7)[0]
    scores = ranker.score(X)
    assert scores.shape == (len(X),) and scores.dtype == np.float64 and np.isfinite(scores).all()
    assert ranker.kind == kind and ranker.is_fallback == (kind != "ltr")


def test_config_rejects_an_unknown_objective_listing_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="rank:ndcg, rank:pairwise"):
        LTRConfig(objective="rank:map")


def test_ndcg_known_values() -> None:
    groups = np.array([0, 0, 0, 1, 1])
    y = np.array([1, 0, 0, 0, 0], np.float32)  # group 1 has nothing relevant: left out
    assert ndcg_at_k(y, np.array([3, 2, 1, 5, 4.0]), groups) == pytest.approx(1.0)
    assert ndcg_at_k(y, np.array([1, 3, 2, 5, 4.0]), groups) == pytest.approx(0.5)


LENGTH_NAMES = (*NAMES, "user_history_log")


def _profiles(n_groups: int, seed: int, titles: int, *, flip: bool) -> Split:
    """Groups of profiles with `titles` titles; relevance is `signal` > 0.5, or < 0.5 when `flip`."""
    X, y, groups = _groups(n_groups, seed)
    y = 1.0 - y if flip else y
    return np.column_stack([X, np.full(len(X), np.log1p(titles), np.float32)]), y, groups


def test_profile_length_ranker_scores_each_profile_with_its_own_model(tmp_path: Path) -> None:
    full = LTRRanker.fit(
        *_profiles(60, 1, 40, flip=False),
        names=LENGTH_NAMES,
        config=SMALL,
        eval_set=_profiles(15, 2, 40, flip=False),
    )
    short = LTRRanker.fit(
        *_profiles(60, 3, 3, flip=True),
        names=LENGTH_NAMES,
        config=SMALL,
        eval_set=_profiles(15, 4, 3, flip=True),
    )
    ranker = ProfileLengthRanker(full=full, short=short, below=10)
    # One batch holding both kinds of rows: each row goes to the model of its profile's length.
    for titles, flip in ((40, False), (3, True), (9, True), (10, False)):
        X, y, groups = _profiles(10, 5, titles, flip=flip)
        assert ndcg_at_k(y, ranker.score(X), groups) == pytest.approx(1.0), titles
    mixed = np.concatenate([_profiles(3, 6, 3, flip=True)[0], _profiles(3, 6, 40, flip=False)[0]])
    expected = np.concatenate([short.score(mixed[:60]), full.score(mixed[60:])])
    np.testing.assert_array_equal(ranker.score(mixed), expected)

    ranker.save(tmp_path / "ltr")
    written = sorted(
        str(p.relative_to(tmp_path / "ltr")) for p in (tmp_path / "ltr").rglob("*") if p.is_file()
    )
    assert written == sorted(ranker.files())
    loaded = load_ranker(tmp_path / "ltr", names=LENGTH_NAMES)
    assert isinstance(loaded, ProfileLengthRanker) and loaded.below == 10
    np.testing.assert_array_equal(loaded.score(mixed), expected)
    assert loaded.metrics == ranker.metrics and loaded.metrics["short_profiles"]["below"] == 10
    with pytest.raises(ValueError, match="same feature columns"):
        ProfileLengthRanker(
            full=full, short=LTRRanker.fit(*_groups(20, 1), names=NAMES, config=SMALL), below=10
        )
    plain = LTRRanker.fit(*_groups(20, 1), names=NAMES, config=SMALL)
    with pytest.raises(ValueError, match="user_history_log"):
        ProfileLengthRanker(full=plain, short=plain, below=10)
