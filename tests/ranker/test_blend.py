"""The blended score: relevance leads, popularity is penalized, business boosts lift, nothing turns NaN."""

from __future__ import annotations

import numpy as np
import pytest

from ranker.blend import BlendWeights, blend


def _blend(**overrides: object) -> np.ndarray:
    args: dict[str, object] = {
        "relevance": np.array([1.0, 1.0, 0.0]),
        "popularity": np.array([10.0, 10.0, 10.0]),
        "original": np.zeros(3, dtype=bool),
        "expiring_soon": np.zeros(3, dtype=bool),
        "weights": BlendWeights(),
        **overrides,
    }
    return blend(**args)  # type: ignore[arg-type]


def test_novelty_demotes_the_more_popular_of_two_equally_relevant_titles() -> None:
    score = _blend(popularity=np.array([5_000.0, 20.0, 100.0]), weights=BlendWeights(novelty=0.1))
    assert score[1] > score[0]
    assert score[0] > score[2]  # a small penalty never outweighs a real relevance gap


def test_boosts_lift_originals_and_expiring_titles() -> None:
    score = _blend(original=np.array([False, True, False]))
    assert score[1] - score[0] == pytest.approx(BlendWeights().original_boost)
    score = _blend(expiring_soon=np.array([True, False, False]))
    assert score[0] - score[1] == pytest.approx(BlendWeights().expiring_boost)


def test_zero_variance_inputs_do_not_produce_nan() -> None:
    score = _blend(relevance=np.full(3, 0.7), popularity=np.zeros(3), original=np.array([True, False, False]))
    assert np.isfinite(score).all()
    assert score.tolist() == pytest.approx([0.05, 0.0, 0.0])
    single = _blend(
        relevance=np.array([2.0]), popularity=np.array([3.0]), original=np.zeros(1), expiring_soon=np.zeros(1)
    )
    assert np.isfinite(single).all()
    assert _blend(
        relevance=np.array([]), popularity=np.array([]), original=np.zeros(0), expiring_soon=np.zeros(0)
    ).shape == (0,)


def test_relevance_is_standardized_per_request() -> None:
    low = _blend(relevance=np.array([0.1, 0.2, 0.3]))
    high = _blend(relevance=np.array([100.0, 200.0, 300.0]))
    assert low == pytest.approx(high)


def test_weights_turn_terms_off() -> None:
    off = BlendWeights(novelty=0.0, original_boost=0.0, expiring_boost=0.0)
    score = _blend(
        popularity=np.array([1.0, 1e6, 3.0]),
        original=np.array([True, False, False]),
        expiring_soon=np.array([True, True, True]),
        weights=off,
    )
    assert score[0] == pytest.approx(score[1])
    assert BlendWeights(diversity=0.3).trade_off == pytest.approx(0.7)


def test_bad_weights_and_misaligned_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"diversity must be in \[0, 1\].*1.5"):
        BlendWeights(diversity=1.5)
    with pytest.raises(ValueError, match=r"novelty must be a finite number; got nan"):
        BlendWeights(novelty=float("nan"))
    with pytest.raises(ValueError, match=r"popularity has 2 entries but relevance has 3"):
        _blend(popularity=np.ones(2))
    with pytest.raises(ValueError, match=r"popularity .* must be >= 0; got -1"):
        _blend(popularity=np.array([1.0, -1.0, 0.0]))


def test_a_new_profile_gets_popular_titles_lifted_and_a_long_one_the_novelty_penalty() -> None:
    weights = BlendWeights(novelty=0.2, new_profile_novelty=-0.2, novelty_full_history=20)
    assert weights.novelty_at(0) == pytest.approx(-0.2)
    assert weights.novelty_at(5) == pytest.approx(-0.1)
    assert weights.novelty_at(20) == weights.novelty_at(500) == pytest.approx(0.2)
    assert BlendWeights(novelty=0.2, novelty_full_history=0).novelty_at(3) == pytest.approx(0.2)
    popular_first = {"relevance": np.array([1.0, 1.0, 0.0]), "popularity": np.array([5_000.0, 20.0, 100.0])}
    fresh = _blend(**popular_first, weights=weights, history=2)
    long = _blend(**popular_first, weights=weights, history=40)
    assert fresh[0] > fresh[1]  # equally relevant: the popular title first for a new profile
    assert long[1] > long[0]  # and last for a long one
    assert _blend(**popular_first, weights=weights) == pytest.approx(long)  # no history given: full weight
    with pytest.raises(ValueError, match=r"novelty must be >= 0"):
        BlendWeights(novelty=-0.1)  # only the new-profile end may be negative
