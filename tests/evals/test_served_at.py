"""The moment an evaluation serves its test users: the ranker's time features must read the same clock
in evaluation as in its training."""

from __future__ import annotations

import numpy as np

from catalog import History
from catalog.interactions import Interactions
from catalog.splitting import make_split
from engine import right_after
from evals.offline import served_at

DAY = 86_400


def _timed() -> Interactions:
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(1, 41), 10)
    stamps = 1_500_000_000 + rng.integers(0, 365 * DAY, size=len(users))
    items = rng.integers(1, 60, size=len(users))
    return Interactions.from_arrays(users=users, items=items, timestamps=stamps)


def test_per_user_hold_outs_are_served_after_the_last_training_interaction() -> None:
    split = make_split(_timed(), "user-temporal", seed=1)
    assert served_at(split) == float(split.train.timestamps.max()) > 1_500_000_000


def test_a_time_cut_is_served_at_the_cut() -> None:
    split = make_split(_timed(), "temporal")
    assert split.cut is not None and served_at(split) == float(split.cut)


def test_untimed_data_has_no_clock() -> None:
    rng = np.random.default_rng(1)
    users = np.repeat(np.arange(1, 41), 10)
    pairs = Interactions.from_arrays(users=users, items=rng.integers(1, 60, size=len(users)))
    assert served_at(make_split(pairs, "random", seed=1)) == 0.0


def test_a_profile_is_served_right_after_its_last_title_on_a_timed_history() -> None:
    def history(stamps: list[int]) -> History:
        n = len(stamps)
        return History(items=np.arange(n), weights=np.ones(n, np.float32), timestamps=np.array(stamps))

    assert right_after(history([1_500_000_000, 1_600_000_000, 1_550_000_000]), 7.0) == 1_600_000_000.0
    assert right_after(history([-1, -1]), 7.0) == 7.0  # untimed: no moment of its own
    assert right_after(history([]), 7.0) == 7.0
