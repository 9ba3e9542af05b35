"""Token buckets per key (an API key, a client address): `rate` requests a minute on average, bursts
up to `rate`."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

MAX_BUCKETS = 100_000  # past this many keys, refilled buckets are forgotten


class RateLimiter:
    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0  # tokens a second
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token of `key`'s bucket: 0.0 when allowed, else seconds until one is available."""
        now = self._clock()
        with self._lock:
            if len(self._buckets) >= MAX_BUCKETS and key not in self._buckets:
                self._forget_full(now)
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.refill

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold nothing a new bucket would not. Keys are client
        addresses too, which anyone can vary, so the table must not grow without bound."""
        full = [
            k
            for k, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.refill >= self.capacity
        ]
        for key in full:
            del self._buckets[key]


def retry_after(wait: float) -> str:
    """Retry-After takes whole seconds; round up so a client that obeys it is never refused again."""
    return str(max(1, math.ceil(wait)))
