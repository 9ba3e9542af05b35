from __future__ import annotations

import numpy as np
import pytest

from retrieval.recent import RecentResults


def test_keeps_the_latest_size_results_read_only() -> None:
    recent = RecentResults(2)
    first = recent.put(b"a", np.zeros(3))
    assert recent.get(b"a") is first and not first.flags.writeable
    recent.put(b"b", np.ones(3))
    recent.put(b"c", np.ones(3))
    assert recent.get(b"a") is None  # the oldest went
    assert recent.get(b"b") is not None and recent.get(b"c") is not None


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="size"):
        RecentResults(0)


def test_get_or_computes_once_per_key() -> None:
    recent = RecentResults(2)
    calls: list[int] = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(3.0)

    first = recent.get_or(b"a", compute)
    assert recent.get_or(b"a", compute) is first and len(calls) == 1 and not first.flags.writeable
    recent.get_or(b"b", compute)
    assert len(calls) == 2
