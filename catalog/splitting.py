"""Train/test splits for offline evaluation: one global time cut, or a seeded per-user holdout."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from catalog.interactions import POSITIVE_RATING, Interactions

SPLIT_KINDS: tuple[str, ...] = ("random", "temporal", "user-temporal")
MIN_ROWS_FOR_HOLDOUT = 5  # users with fewer rows stay wholly in train (random split)


@dataclass(frozen=True, eq=False)
class Split:
    """Training interactions plus each test user's held-out positive titles."""

    kind: str  # "temporal" | "random"
    train: Interactions  # every interaction (all ratings) before the cut / not held out
    test: Mapping[int, frozenset[int]]  # user -> positive title ids in the test part
    cut: int | None  # temporal cut timestamp
    excluded_users: int  # users with test positives but no training history
    seed: int | None


def temporal_split(
    interactions: Interactions, *, test_fraction: float = 0.2, threshold: float = POSITIVE_RATING
) -> Split:
    """One global cut: rows before it train, each known user's positives at/after it test."""
    _check_fraction(test_fraction)
    if not interactions.timed:
        raise ValueError(
            "temporal split needs timestamps and these interactions have none "
            "(ml-1m has no timestamps); use --split random"
        )
    ordered = np.sort(interactions.timestamps)
    # The timestamp at the (1 - test_fraction) position; ties with it all land in test.
    cut = int(ordered[min(math.floor((1 - test_fraction) * len(ordered)), len(ordered) - 1)])
    before = interactions.timestamps < cut
    train = interactions.select(before)
    test, excluded = _test_sets(interactions, train, ~before, threshold)
    return Split(kind="temporal", train=train, test=test, cut=cut, excluded_users=excluded, seed=None)


def random_split(
    interactions: Interactions,
    *,
    test_fraction: float = 0.2,
    seed: int = 42,
    threshold: float = POSITIVE_RATING,
) -> Split:
    """Per user with enough rows, hold out ceil(test_fraction * n) random rows; same seed, same split."""
    keys = np.random.default_rng(seed).random(len(interactions))
    return _per_user_holdout(interactions, keys, "random", test_fraction, threshold, seed)


def user_temporal_split(
    interactions: Interactions, *, test_fraction: float = 0.2, threshold: float = POSITIVE_RATING
) -> Split:
    """Per user with enough rows, hold out their latest ceil(test_fraction * n) rows.

    Used to tune on a temporal training part: a global cut inside it leaves too few users
    (ml-latest-small: ~20) for stable choices, while every user's own future stays unseen here.
    """
    if not interactions.timed:
        raise ValueError("user-temporal split needs timestamps; use --split random")
    return _per_user_holdout(
        interactions, -interactions.timestamps, "user-temporal", test_fraction, threshold, None
    )


def _per_user_holdout(
    interactions: Interactions,
    keys: np.ndarray,
    kind: str,
    test_fraction: float,
    threshold: float,
    seed: int | None,
) -> Split:
    """Hold out each user's first ceil(test_fraction * n) rows in `keys` order."""
    _check_fraction(test_fraction)
    n = len(interactions)
    order = np.lexsort((keys, interactions.users))
    _, starts, counts = np.unique(interactions.users[order], return_index=True, return_counts=True)
    rank = np.arange(n) - np.repeat(starts, counts)
    rows = np.repeat(counts, counts)
    # The small epsilon keeps float noise (0.1 * 30 = 3.0000000000000004) from adding a row.
    quota = np.ceil(test_fraction * rows - 1e-9)
    held_out = np.zeros(n, dtype=bool)
    held_out[order] = (rows >= MIN_ROWS_FOR_HOLDOUT) & (rank < quota)
    train = interactions.select(~held_out)
    test, excluded = _test_sets(interactions, train, held_out, threshold)
    return Split(kind=kind, train=train, test=test, cut=None, excluded_users=excluded, seed=seed)


_SPLITTERS: dict[str, Callable[..., Split]] = {
    "random": random_split,
    "temporal": temporal_split,
    "user-temporal": user_temporal_split,
}


def make_split(interactions: Interactions, kind: str, **kw: Any) -> Split:
    """Dispatch on the split kind's name (see SPLIT_KINDS)."""
    splitter = _SPLITTERS.get(kind)
    if splitter is None:
        raise ValueError(f"unknown split kind {kind!r}; valid: {', '.join(SPLIT_KINDS)}")
    if kind != "random":
        kw.pop("seed", None)  # callers pass one seed for either kind; a time cut has no randomness
    return splitter(interactions, **kw)


def _test_sets(
    interactions: Interactions, train: Interactions, held_out: np.ndarray, threshold: float
) -> tuple[dict[int, frozenset[int]], int]:
    """Held-out positives per user, minus titles already in that user's train rows; and the excluded count."""
    positive = held_out & interactions.positive_mask(threshold)
    users, items = interactions.users[positive], interactions.items[positive]
    known = np.isin(users, train.users)
    excluded = len(np.unique(users[~known]))
    # Re-watches are not discoveries: drop (user, title) pairs the user already has in train.
    width = int(max(items.max(initial=0), train.items.max(initial=0))) + 1
    seen = np.isin(users * width + items, train.users * width + train.items)
    keep = known & ~seen
    users, items = users[keep], items[keep]
    order = np.argsort(users, kind="stable")
    users, items = users[order], items[order]
    bounds = np.flatnonzero(np.diff(users)) + 1
    test = {
        int(chunk_users[0]): frozenset(chunk_items.tolist())
        for chunk_users, chunk_items in zip(np.split(users, bounds), np.split(items, bounds), strict=True)
        if len(chunk_users)
    }
    return test, excluded


def _check_fraction(test_fraction: float) -> None:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
