"""Top-k ranking metrics with binary relevance, matching ranx's definitions.

Conventions (each checked against ranx in tests/evals/test_metrics.py):

* ``ndcg_at_k``: DCG = sum over the top k of rel_r / log2(r + 2) (0-based rank r); IDCG is the DCG
  of an ideal list, i.e. ``min(|relevant|, k)`` hits at the top. ranx "ndcg@k" (Järvelin).
* ``recall_at_k``: hits in the top k / ``|relevant|`` (not / min(|relevant|, k)), as ranx "recall@k".
  A user with more than k relevant titles can therefore not reach 1.
* ``average_precision_at_k``: sum of precision@(r+1) over the hit ranks r < k, / ``|relevant|``,
  as ranx "map@k" (again not / min(|relevant|, k)).

An empty relevant set scores 0 on every metric. Rankings are assumed to hold no duplicates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

import numpy as np
from scipy import stats

from catalog.interactions import Interactions

ACCURACY_METRICS: tuple[str, ...] = ("ndcg@10", "recall@10", "recall@50", "map@10")
METRICS: tuple[str, ...] = (*ACCURACY_METRICS, "coverage", "novelty")
LIST_K = 10  # the list length coverage and novelty look at


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def _hits(ranking: Sequence[int], relevant: AbstractSet[int], k: int) -> np.ndarray:
    return np.fromiter((int(i) in relevant for i in ranking[:k]), dtype=bool)


def ndcg_at_k(ranking: Sequence[int], relevant: AbstractSet[int], k: int) -> float:
    _check_k(k)
    if not relevant:
        return 0.0
    hits = _hits(ranking, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))
    dcg = float(discounts[: len(hits)][hits].sum())
    idcg = float(discounts[: min(len(relevant), k)].sum())
    return dcg / idcg


def recall_at_k(ranking: Sequence[int], relevant: AbstractSet[int], k: int) -> float:
    _check_k(k)
    if not relevant:
        return 0.0
    return float(_hits(ranking, relevant, k).sum()) / len(relevant)


def average_precision_at_k(ranking: Sequence[int], relevant: AbstractSet[int], k: int) -> float:
    _check_k(k)
    if not relevant:
        return 0.0
    hits = _hits(ranking, relevant, k)
    if not hits.any():
        return 0.0
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1, dtype=np.float64)
    return float(precision[hits].sum()) / len(relevant)


def recall_at(rankings: Mapping[int, Sequence[int]], test: Mapping[int, AbstractSet[int]], k: int) -> float:
    """Mean recall@k over the users of `test` (a user without a ranking scores 0).

    Meant for candidate recall (k = 500): did the first stage surface the held-out titles at all.
    """
    _check_k(k)
    if not test:
        return 0.0
    return float(np.mean([recall_at_k(rankings.get(u, ()), rel, k) for u, rel in test.items()]))


class ItemPopularity(Mapping[int, float]):
    """Title id -> share of training users who interacted with it (for novelty).

    `unseen` is the share assumed for a title no training user touched: 1 / (n_users + 1),
    i.e. as if one more user had seen it.
    """

    def __init__(self, shares: Mapping[int, float], n_users: int) -> None:
        self._shares = dict(shares)
        self.n_users = n_users
        self.unseen = 1.0 / (n_users + 1)

    @classmethod
    def from_interactions(cls, train: Interactions) -> ItemPopularity:
        pairs = np.unique(np.stack([train.items, train.users]), axis=1)  # distinct (item, user)
        items, users_per_item = np.unique(pairs[0], return_counts=True)
        n_users = len(np.unique(train.users))
        shares = {int(i): float(c) / n_users for i, c in zip(items, users_per_item, strict=True)}
        return cls(shares, n_users)

    def __getitem__(self, item: int) -> float:
        return self._shares[item]

    def __iter__(self):
        return iter(self._shares)

    def __len__(self) -> int:
        return len(self._shares)

    def share(self, item: int) -> float:
        return self._shares.get(int(item), self.unseen)


def evaluate(
    rankings: Mapping[int, Sequence[int]],
    test: Mapping[int, AbstractSet[int]],
    *,
    item_popularity: Mapping[int, float] | Interactions,
    n_catalog: int,
    unseen_share: float | None = None,
) -> dict[str, float]:
    """Mean ndcg@10, recall@10, recall@50 and map@10 over the users of `test`, plus coverage and novelty.

    A user of `test` missing from `rankings` (or with an empty relevant set) scores 0 on the
    accuracy metrics. Users in `rankings` but not in `test` are ignored.

    * coverage: distinct titles in the top-10 lists of the `test` users / `n_catalog`.
    * novelty: per user, the mean self-information -log2 p(i) of their top-10 titles, where p(i)
      is the share of training users who interacted with i; averaged over the users with a
      non-empty list. `item_popularity` is either those shares (title id -> p) or the training
      Interactions to compute them from (`ItemPopularity`). A title without a share gets
      `unseen_share`; by default `item_popularity.unseen` (1 / (n_training_users + 1)) when the
      mapping has it (ItemPopularity, or Interactions passed), else 1 / (1 / min(shares) + 1),
      which is that same value whenever the rarest training title has a single user.
    """
    if n_catalog < 1:
        raise ValueError("n_catalog must be >= 1")
    if isinstance(item_popularity, Interactions):
        item_popularity = ItemPopularity.from_interactions(item_popularity)
    if unseen_share is None:
        unseen_share = getattr(item_popularity, "unseen", None)
    if unseen_share is None and len(item_popularity):
        rarest = min(item_popularity.values())
        if rarest > 0:
            unseen_share = 1.0 / (1.0 / rarest + 1.0)

    def information(item: int) -> float:
        p = item_popularity.get(item)
        if p is None:
            if unseen_share is None:
                raise KeyError(f"title {item} has no popularity and none can be inferred; pass unseen_share")
            p = unseen_share
        return -float(np.log2(p))

    totals = dict.fromkeys(ACCURACY_METRICS, 0.0)
    shown: set[int] = set()
    novelties: list[float] = []
    for user, relevant in test.items():
        ranking = [int(i) for i in rankings.get(user, ())[:50]]
        totals["ndcg@10"] += ndcg_at_k(ranking, relevant, 10)
        totals["recall@10"] += recall_at_k(ranking, relevant, 10)
        totals["recall@50"] += recall_at_k(ranking, relevant, 50)
        totals["map@10"] += average_precision_at_k(ranking, relevant, 10)
        top = ranking[:LIST_K]
        shown.update(top)
        if top:
            novelties.append(float(np.mean([information(i) for i in top])))
    n = len(test)
    result = {name: (value / n if n else 0.0) for name, value in totals.items()}
    result["coverage"] = len(shown) / n_catalog
    result["novelty"] = float(np.mean(novelties)) if novelties else 0.0
    return result


def per_user(
    rankings: Mapping[int, Sequence[int]], test: Mapping[int, AbstractSet[int]], k: int = 10
) -> np.ndarray:
    """ndcg@k per user of `test`, in `test`'s order: what intervals and paired tests are taken over."""
    return np.array([ndcg_at_k([int(i) for i in rankings.get(u, ())], rel, k) for u, rel in test.items()])


def interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean of per-user values."""
    n = len(values)
    if n < 2:
        return (float("nan"), float("nan"))
    mean, sem = float(np.mean(values)), float(stats.sem(values))
    half = sem * float(stats.t.ppf((1 + confidence) / 2, n - 1))
    return (mean - half, mean + half)


def paired_test(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """a against b over the same users: mean difference, its 95% interval, ratio of means and the
    two-sided paired t-test p-value (NaN when the two never differ)."""
    if len(a) != len(b):
        raise ValueError(f"paired values must align; got {len(a)} and {len(b)}")
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    p = float(stats.ttest_rel(a, b).pvalue) if len(a) > 1 and diff.any() else float("nan")
    lo, hi = interval(diff)
    mean_b = float(np.mean(b)) if len(b) else 0.0
    return {
        "difference": float(np.mean(diff)) if len(diff) else 0.0,
        "difference_ci": [lo, hi],
        "ratio": float(np.mean(a)) / mean_b if mean_b else float("nan"),
        "p_value": p,
    }
