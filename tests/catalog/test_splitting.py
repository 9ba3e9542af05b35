"""Temporal and random splits: known answers on tiny data, then the real data sets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from catalog import Dataset, Interactions, make_split, random_split, temporal_split

# (user, item, rating, ts); with test_fraction=0.4 the cut is the 8th of 12 timestamps (ts=8).
ROWS = [
    (1, 10, 5.0, 1),
    (1, 11, 3.0, 2),
    (2, 10, 4.0, 3),
    (2, 12, 5.0, 4),
    (1, 12, 2.0, 5),
    (3, 13, 5.0, 6),
    (2, 14, 1.0, 7),
    (3, 13, 4.0, 8),  # test part, but user 3 already has title 13 in train: a re-watch, dropped
    (1, 13, 5.0, 9),  # user 1 test positive
    (4, 10, 5.0, 10),  # user 4 has no train rows: excluded and counted
    (2, 15, 2.0, 11),  # below the threshold: not a test positive
    (1, 14, 4.0, 12),  # user 1 test positive (rating == threshold)
]


def tiny() -> Interactions:
    users, items, ratings, ts = zip(*ROWS, strict=True)
    return Interactions.from_arrays(np.array(users), np.array(items), np.array(ratings), np.array(ts))


def grouped(n_users: int, rows_per_user: list[int]) -> Interactions:
    """Users 0..n-1 with the given row counts; ratings alternate 5 and 1, distinct items."""
    users = np.repeat(np.arange(n_users), rows_per_user)
    items = np.arange(len(users)) + 100
    ratings = np.where(np.arange(len(users)) % 2 == 0, 5.0, 1.0)
    return Interactions.from_arrays(users, items, ratings, np.arange(len(users)))


# --- temporal ---------------------------------------------------------------------------------------


def test_temporal_known_answer() -> None:
    split = temporal_split(tiny(), test_fraction=0.4)
    assert split.kind == "temporal" and split.seed is None
    assert split.cut == 8
    assert split.train.timestamps.tolist() == [1, 2, 3, 4, 5, 6, 7]  # every rating before the cut
    assert split.test == {1: frozenset({13, 14})}
    assert split.excluded_users == 1


def test_temporal_ties_at_the_cut_go_to_test() -> None:
    data = Interactions.from_arrays(
        np.array([1, 1, 2, 2, 1]), np.array([1, 2, 3, 4, 5]), np.full(5, 5.0), np.array([1, 2, 5, 5, 5])
    )
    split = temporal_split(data, test_fraction=0.2)
    assert split.cut == 5
    assert len(split.train) == 2
    assert split.test == {1: frozenset({5})}
    assert split.excluded_users == 1  # user 2 only appears at/after the cut


def test_temporal_is_reproducible() -> None:
    first, second = temporal_split(tiny(), test_fraction=0.4), temporal_split(tiny(), test_fraction=0.4)
    assert first.test == second.test and first.cut == second.cut
    np.testing.assert_array_equal(first.train.items, second.train.items)


def test_temporal_on_untimed_data_says_what_to_do() -> None:
    untimed = Interactions.from_arrays(np.array([1, 2]), np.array([3, 4]))
    with pytest.raises(ValueError, match=r"no timestamps.*use --split random"):
        temporal_split(untimed)


# --- random ----------------------------------------------------------------------------------------


def test_random_holds_out_ceil_fraction_for_users_with_five_rows() -> None:
    data = grouped(4, [10, 4, 5, 7])
    split = random_split(data, test_fraction=0.2, seed=7)
    assert split.kind == "random" and split.seed == 7 and split.cut is None
    train_counts = np.bincount(split.train.users, minlength=4).tolist()
    assert train_counts == [10 - 2, 4, 5 - 1, 7 - math.ceil(0.2 * 7)]
    held_out = set(data.items.tolist()) - set(split.train.items.tolist())
    positives = set(data.items[data.ratings >= 4.0].tolist())
    for user, items in split.test.items():
        assert items <= held_out & positives
        assert set(data.items[data.users == user].tolist()) >= items
    assert 1 not in split.test  # 4 rows: everything trains
    assert split.excluded_users == 0


def test_random_is_deterministic_for_a_seed() -> None:
    data = grouped(5, [8, 9, 10, 11, 12])
    first, second = random_split(data, seed=3), random_split(data, seed=3)
    np.testing.assert_array_equal(first.train.items, second.train.items)
    assert first.test == second.test
    others = {tuple(random_split(data, seed=s).train.items.tolist()) for s in range(5)}
    assert len(others) > 1  # and the seed matters


def test_random_known_answer_for_seed_42() -> None:
    # Pins numpy's PCG64 stream and the shuffle-by-key scheme: eval numbers stay comparable.
    split = random_split(grouped(2, [6, 5]), seed=42)
    assert sorted(set(range(100, 111)) - set(split.train.items.tolist())) == [101, 104, 108]
    assert split.test == {0: frozenset({104}), 1: frozenset({108})}  # 101 is rated 1.0


def test_random_implicit_rows_are_all_positive() -> None:
    data = Interactions.from_arrays(np.zeros(10, np.int64), np.arange(10))
    split = random_split(data, test_fraction=0.3)
    assert len(split.train) == 7
    assert split.test[0] == frozenset(set(range(10)) - set(split.train.items.tolist()))


# --- make_split -------------------------------------------------------------------------------------


def test_make_split_dispatches_and_names_bad_kinds() -> None:
    assert make_split(tiny(), "temporal", test_fraction=0.4, seed=1).cut == 8  # seed is ignored
    assert make_split(tiny(), "random", seed=1).seed == 1
    with pytest.raises(ValueError, match=r"'bogus'.*random, temporal"):
        make_split(tiny(), "bogus")


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_bad_fractions_are_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        random_split(tiny(), test_fraction=fraction)


# --- real data --------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_temporal_split_of_latest_small(latest_small: Dataset) -> None:
    split = temporal_split(latest_small.interactions)
    assert split.cut == 1_458_635_171  # 2016-03-22
    assert len(split.train) == 80_668
    assert len(split.test) == 28
    assert split.excluded_users == 88
    assert all(items for items in split.test.values())


@pytest.mark.realdata
def test_random_split_of_ml_1m(ml_1m: Dataset) -> None:
    split = random_split(ml_1m.interactions, seed=42)
    assert len(split.train) == 797_758
    assert len(split.test) == 6_040 and split.excluded_users == 0
    assert sum(map(len, split.test.values())) == len(ml_1m.interactions) - len(split.train)
    with pytest.raises(ValueError, match="use --split random"):
        temporal_split(ml_1m.interactions)
