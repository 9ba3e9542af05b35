"""The short training profiles that teach the ranker what a new profile's few picks say."""

from __future__ import annotations

import numpy as np

from catalog import History
from engine.ranking import ONBOARDED_RATING, short_profiles


def _history(n: int) -> History:
    return History(
        items=np.arange(100, 100 + n, dtype=np.int64),
        weights=np.linspace(1.0, 5.0, n).astype(np.float32),
        timestamps=np.arange(n, dtype=np.int64) * 10,
    )


def test_consecutive_stretches_each_liked_and_each_followed_by_a_title() -> None:
    profiles = short_profiles(_history(10), 3, windows=5)
    # 3 stretches of 3 fit with a title after each; a fourth (titles 9-11) would run past the end.
    assert [p.items.tolist() for p in profiles] == [[100, 101, 102], [103, 104, 105], [106, 107, 108]]
    assert [p.timestamps.tolist() for p in profiles][1] == [30, 40, 50]
    assert all((p.weights == ONBOARDED_RATING).all() for p in profiles)


def test_windows_cap_the_count_and_a_whole_history_is_never_a_short_profile() -> None:
    assert len(short_profiles(_history(10), 3, windows=2)) == 2
    assert [p.items.tolist() for p in short_profiles(_history(4), 3, windows=3)] == [[100, 101, 102]]
    assert short_profiles(_history(3), 3, windows=3) == []
