from __future__ import annotations

import math

import numpy as np
import pytest

from catalog.interactions import Interactions
from evals.metrics import (
    ItemPopularity,
    average_precision_at_k,
    evaluate,
    interval,
    ndcg_at_k,
    paired_test,
    per_user,
    recall_at,
    recall_at_k,
)

LOG2_3 = math.log2(3)


def test_single_hit_at_rank_two():
    assert ndcg_at_k([1, 2, 3], {2}, 10) == pytest.approx(1 / LOG2_3, abs=1e-12)
    assert recall_at_k([1, 2, 3], {2}, 10) == 1.0
    assert average_precision_at_k([1, 2, 3], {2}, 10) == pytest.approx(0.5)


def test_one_of_two_relevant_found():
    # IDCG has two hits: 1 + 1/log2(3).
    assert ndcg_at_k([1, 2, 3], {2, 99}, 10) == pytest.approx((1 / LOG2_3) / (1 + 1 / LOG2_3))
    assert recall_at_k([1, 2, 3], {2, 99}, 10) == 0.5
    assert average_precision_at_k([1, 2, 3], {2, 99}, 10) == pytest.approx(0.25)


def test_two_hits():
    # hits at ranks 1 and 3: precision 1 and 2/3, over |relevant| = 2.
    assert average_precision_at_k([7, 8, 9], {7, 9}, 10) == pytest.approx((1 + 2 / 3) / 2)
    assert ndcg_at_k([7, 8, 9], {7, 9}, 10) == pytest.approx((1 + 1 / 2) / (1 + 1 / LOG2_3))


def test_cutoff_k():
    assert ndcg_at_k([5, 6, 1], {1}, 2) == 0.0
    assert recall_at_k([5, 6, 1], {1}, 2) == 0.0
    assert average_precision_at_k([5, 6, 1], {1}, 2) == 0.0
    assert recall_at_k([5, 6, 1], {1}, 3) == 1.0


def test_more_relevant_than_k():
    # ndcg's ideal list is capped at k; recall and AP divide by |relevant| (ranx's convention).
    assert ndcg_at_k([1, 2], {1, 2, 3}, 2) == pytest.approx(1.0)
    assert recall_at_k([1, 2], {1, 2, 3}, 2) == pytest.approx(2 / 3)
    assert average_precision_at_k([1, 2], {1, 2, 3}, 2) == pytest.approx(2 / 3)


def test_empty_cases():
    for metric in (ndcg_at_k, recall_at_k, average_precision_at_k):
        assert metric([1, 2], set(), 10) == 0.0
        assert metric([], {1}, 10) == 0.0
        with pytest.raises(ValueError):
            metric([1], {1}, 0)


def test_numpy_rankings():
    assert ndcg_at_k(np.array([1, 2, 3]), {2}, 10) == pytest.approx(1 / LOG2_3)


def _random_case(seed: int = 7, n_users: int = 200, n_items: int = 300):
    rng = np.random.default_rng(seed)
    rankings: dict[int, list[int]] = {}
    test: dict[int, set[int]] = {}
    for user in range(n_users):
        length = int(rng.choice([5, 20, 60]))
        ranking = rng.choice(n_items, size=length, replace=False)
        n_rel = int(rng.integers(1, 30))
        # about half the relevant titles come from the ranking, so there are hits at all depths
        from_ranking = rng.choice(ranking, size=min(n_rel // 2 + 1, length), replace=False)
        others = rng.choice(n_items, size=n_rel, replace=False)
        rankings[user] = [int(i) for i in ranking]
        test[user] = {int(i) for i in np.concatenate([from_ranking, others])}
    return rankings, test


# ranx's numba kernels compile on first use (cached afterwards) and warn while compiling.
@pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaWarning")
def test_matches_ranx():
    ranx = pytest.importorskip("ranx")
    rankings, test = _random_case()
    qrels = ranx.Qrels({str(u): {str(i): 1 for i in rel} for u, rel in test.items()})
    run = ranx.Run(
        {str(u): {str(i): float(len(r) - rank) for rank, i in enumerate(r)} for u, r in rankings.items()}
    )
    expected = ranx.evaluate(qrels, run, ["ndcg@10", "recall@10", "recall@50", "map@10"])
    popularity = {i: 0.5 for i in range(300)}
    ours = evaluate(rankings, test, item_popularity=popularity, n_catalog=300)
    for name, value in expected.items():
        assert ours[name] == pytest.approx(value, abs=1e-9), name
    assert recall_at(rankings, test, 50) == pytest.approx(expected["recall@50"], abs=1e-9)


def test_evaluate_missing_user_scores_zero():
    test = {1: {10}, 2: {20}}
    result = evaluate({1: [10, 11]}, test, item_popularity={10: 0.5, 11: 0.5}, n_catalog=4)
    assert result["ndcg@10"] == pytest.approx(0.5)
    assert result["recall@10"] == pytest.approx(0.5)
    assert result["recall@50"] == pytest.approx(0.5)
    assert result["map@10"] == pytest.approx(0.5)
    assert result["coverage"] == pytest.approx(2 / 4)
    assert result["novelty"] == pytest.approx(1.0)
    assert recall_at({1: [10, 11]}, test, 500) == pytest.approx(0.5)
    # rankings for users outside `test` are ignored
    assert evaluate({1: [10, 11], 3: [12]}, test, item_popularity={10: 0.5, 11: 0.5}, n_catalog=4) == result


def test_coverage_and_novelty():
    # training: title 10 seen by all 4 users (p=1), 20 by 2 (p=1/2), 30 by 1 (p=1/4); 99 unseen.
    train = Interactions.from_arrays(
        np.array([1, 2, 3, 4, 1, 2, 1, 1]),
        np.array([10, 10, 10, 10, 20, 20, 30, 30]),  # user 1 saw 30 twice: still one user
    )
    popularity = ItemPopularity.from_interactions(train)
    assert dict(popularity) == {10: 1.0, 20: 0.5, 30: 0.25}
    assert popularity.unseen == pytest.approx(1 / 5)
    rankings = {1: [10, 20], 2: [30, 99], 5: [40]}
    test = {1: {20}, 2: {30}, 3: {10}}  # user 3 has no list: zero accuracy, left out of novelty
    expected_novelty = ((0 + 1) / 2 + (2 + math.log2(5)) / 2) / 2
    for pop in (popularity, train):
        result = evaluate(rankings, test, item_popularity=pop, n_catalog=10)
        assert result["coverage"] == pytest.approx(4 / 10)  # 10, 20, 30, 99; user 5 not in test
        assert result["novelty"] == pytest.approx(expected_novelty)
        assert result["recall@10"] == pytest.approx(2 / 3)


def test_coverage_counts_top_ten_only():
    ranking = list(range(11))
    result = evaluate({1: ranking}, {1: {0}}, item_popularity=dict.fromkeys(range(11), 0.5), n_catalog=20)
    assert result["coverage"] == pytest.approx(10 / 20)


def test_unknown_popularity():
    with pytest.raises(KeyError):
        evaluate({1: [5]}, {1: {5}}, item_popularity={}, n_catalog=1)
    result = evaluate({1: [5]}, {1: {5}}, item_popularity={}, n_catalog=1, unseen_share=0.25)
    assert result["novelty"] == pytest.approx(2.0)
    # a plain mapping: the rarest share 1/4 implies 4 training users, so unseen titles get 1/5
    result = evaluate({1: [6]}, {1: {5}}, item_popularity={5: 0.25, 7: 1.0}, n_catalog=3)
    assert result["novelty"] == pytest.approx(np.log2(5))


def test_paired_test_finds_a_consistent_gain_and_not_noise() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(400)
    better = paired_test(base + 0.05 + rng.normal(0, 0.01, 400), base)
    assert better["p_value"] < 1e-6 and better["difference"] == pytest.approx(0.05, abs=0.01)
    assert better["difference_ci"][0] > 0 and better["ratio"] > 1
    noise = paired_test(base + rng.normal(0, 0.1, 400), base)
    assert noise["p_value"] > 0.05 and noise["difference_ci"][0] < 0 < noise["difference_ci"][1]
    assert math.isnan(paired_test(base, base)["p_value"])  # never differ: no test to make
    with pytest.raises(ValueError, match="align"):
        paired_test(base, base[:10])


def test_interval_and_per_user_scores() -> None:
    values = np.array([0.0, 1.0] * 50)
    lo, hi = interval(values)
    assert lo < 0.5 < hi and hi - lo == pytest.approx(2 * 1.984 * values.std(ddof=1) / 10, rel=1e-3)
    scores = per_user({1: [5, 6], 2: [7]}, {1: {6}, 2: {8}, 3: {9}})
    assert scores.tolist() == pytest.approx([1 / math.log2(3), 0.0, 0.0])
