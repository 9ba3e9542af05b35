"""SASRec: a known answer only order can give, determinism, and the baseline protocol."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from catalog.interactions import Interactions
from evals.baselines import Popular
from evals.sequential import SASRec

CYCLE = 30  # titles 1000..1029 in a fixed shuffled cycle
STEPS = 6  # titles each user has watched, consecutive on the cycle


def _walks(users: int = 240, seed: int = 0) -> tuple[Interactions, dict[int, int]]:
    """Each user walks STEPS titles along the cycle, half of them forwards and half backwards, from a random
    start; the next title of the walk is held out.

    Every title is as popular as any other, and the set of a user's titles is an arc whose two ends are
    equally likely to be next: only the order (the direction of the walk) says which one is.
    """
    rng = np.random.default_rng(seed)
    cycle = 1000 + rng.permutation(CYCLE)
    rows_u, rows_i, rows_t = [], [], []
    nxt: dict[int, int] = {}
    for user in range(users):
        start, direction = int(rng.integers(CYCLE)), 1 if user % 2 else -1
        walk = [int(cycle[(start + direction * s) % CYCLE]) for s in range(STEPS + 1)]
        for step, title in enumerate(walk[:-1]):
            rows_u.append(user)
            rows_i.append(title)
            rows_t.append(1_000_000 + 1000 * user + 10 * step)
        nxt[user] = walk[-1]
    train = Interactions.from_arrays(
        np.array(rows_u), np.array(rows_i), np.full(len(rows_u), 4.0), np.array(rows_t)
    )
    return train, nxt


def _small(**kw: object) -> SASRec:
    params: dict = {"max_len": 8, "dim": 32, "epochs": 30, "lr": 3e-3, "num_threads": 1, "seed": 7} | kw
    return SASRec(**params)


@pytest.fixture(scope="module")
def walks() -> tuple[Interactions, dict[int, int]]:
    return _walks()


@pytest.fixture(scope="module")
def fitted(walks: tuple[Interactions, dict[int, int]]) -> SASRec:
    return _small().fit(walks[0])


def _hits(recs: dict[int, np.ndarray], nxt: dict[int, int], k: int) -> float:
    return float(np.mean([nxt[u] in recs[u][:k].tolist() for u in nxt]))


def test_the_next_title_comes_first_where_only_order_tells(
    walks: tuple[Interactions, dict[int, int]], fitted: SASRec
) -> None:
    train, nxt = walks
    users = sorted(nxt)
    recs = fitted.recommend(users, 3)
    popular = Popular().fit(train).recommend(users, 3)
    # 24 unseen titles: Popular's hits are chance (about 1/24 first, 3/24 in the top 3).
    assert _hits(recs, nxt, 1) >= 0.8 and _hits(recs, nxt, 3) >= 0.9, (
        _hits(recs, nxt, 1),
        _hits(recs, nxt, 3),
    )
    assert _hits(popular, nxt, 3) <= 0.3
    # The same titles in a random order within each user: both ends of the arc look alike, so about half.
    rng = np.random.default_rng(1)
    shuffled = Interactions(train.users, train.items, train.ratings, rng.permutation(train.timestamps))
    blind = _small().fit(shuffled).recommend(users, 1)
    assert _hits(blind, nxt, 1) <= 0.7 <= _hits(recs, nxt, 1) - 0.1


def test_same_seed_same_lists_and_global_state_untouched(walks: tuple[Interactions, dict[int, int]]) -> None:
    train, nxt = walks
    users = sorted(nxt)[:50]
    rng_before, threads_before = torch.get_rng_state(), torch.get_num_threads()
    first = _small(epochs=3).fit(train).recommend(users, 10)
    assert torch.equal(torch.get_rng_state(), rng_before) and torch.get_num_threads() == threads_before
    second = _small(epochs=3).fit(train).recommend(users, 10)
    other = _small(epochs=3, seed=8).fit(train).recommend(users, 10)
    assert all(np.array_equal(first[u], second[u]) for u in users)
    assert any(not np.array_equal(first[u], other[u]) for u in users)


def test_excludes_training_titles_and_fills_k(
    walks: tuple[Interactions, dict[int, int]], fitted: SASRec
) -> None:
    train, nxt = walks
    seen = train.items_by_user()
    recs = fitted.recommend(sorted(nxt), 10)
    for user, items in recs.items():
        assert len(items) == 10 and len(set(items.tolist())) == 10 and items.dtype == np.int64
        assert not set(items.tolist()) & set(seen[user].tolist())
    # Asking for more than the unseen catalogue gives all of it, no more.
    assert len(fitted.recommend([0], 100)[0]) == CYCLE - STEPS


def test_unknown_user_gets_popular_and_explicit_exclude_replaces_default(
    walks: tuple[Interactions, dict[int, int]], fitted: SASRec
) -> None:
    train, _ = walks
    popular = Popular().fit(train)
    assert fitted.recommend([99_999], 5)[99_999].tolist() == popular.recommend([99_999], 5)[99_999].tolist()
    # An explicit mapping replaces the default: user 0's training titles may come back, the banned one not.
    banned = int(fitted.recommend([0], 1)[0][0])
    recs = fitted.recommend([0, 1], CYCLE, exclude={0: {banned}})
    assert len(recs[0]) == CYCLE - 1 and banned not in recs[0].tolist()
    assert len(recs[1]) == CYCLE  # missing from the mapping: nothing excluded


def test_rejects_bad_parameters_and_recommend_before_fit() -> None:
    with pytest.raises(ValueError, match="loss"):
        SASRec(loss="mse")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="fit"):
        SASRec().recommend([1], 5)


def test_short_catalogue_and_users_with_one_title() -> None:
    # No user has two titles here: nothing to learn an order from, yet the protocol holds.
    train = Interactions.from_arrays(np.array([1, 2]), np.array([10, 20]), timestamps=np.array([5, 5]))
    recs = _small(epochs=2).fit(train).recommend([1, 2, 3], 5)
    assert recs[1].tolist() == [20] and recs[2].tolist() == [10] and recs[3].tolist() == [10, 20]
