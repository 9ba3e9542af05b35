"""The last few results of a costly per-profile computation, kept by the profile's input bytes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class RecentResults:
    """Up to `size` read-only arrays by key, the oldest dropped first.

    One page asks twice for the same profile's numbers (a stage-1 source, then the ranker's features);
    `size` covers the requests in flight. Concurrent requests may race to store the same key: both
    computed the same value, so either one kept is right.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        self.size = size
        self._kept: dict[bytes, np.ndarray] = {}

    def get(self, key: bytes) -> np.ndarray | None:
        return self._kept.get(key)

    def get_or(self, key: bytes, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The value kept for `key`, else `compute()`'s, kept."""
        kept = self._kept.get(key)
        return kept if kept is not None else self.put(key, compute())

    def put(self, key: bytes, value: np.ndarray) -> np.ndarray:
        """Keep `value` (made read-only, as every later caller shares it) and return it."""
        value.flags.writeable = False
        self._kept[key] = value
        if len(self._kept) > self.size:
            self._kept.pop(next(iter(self._kept)), None)
        return value
