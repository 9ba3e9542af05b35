"""A per-profile cache of homepage responses: a page stays put while nothing about the profile changes.

Any write for a profile (events that change its history, onboarding, profile edits) drops its entries,
so the next request reflects it at once; a short time-to-live lets the bandits' exploration move pages
along anyway.

Safe under concurrent requests: a page is kept only if no write for its profile came while it was being
computed, so a page built before a write can never be stored after it. Requests that miss on the same
page at the same time compute it once (the others wait for that result).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["hit", "miss", "shared"]  # shared: waited for a concurrent request's computation


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    failed: bool = False


@dataclass
class ProfileCache:
    ttl_seconds: float = 60.0
    max_entries: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[tuple[str, Hashable], tuple[float, Any]] = field(default_factory=OrderedDict)
    _keys: dict[str, set[Hashable]] = field(default_factory=dict)  # per profile, for invalidate
    max_profiles: int = 100_000  # writes remembered per profile; older ones count as at `_horizon`
    _writes: int = 0  # a clock of writes: every invalidate advances it
    _written: OrderedDict[str, int] = field(default_factory=OrderedDict)  # profile -> its latest write
    _horizon: int = 0  # the latest write among profiles no longer remembered
    _flights: dict[tuple[str, Hashable, int], _Flight] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, profile_id: str, key: Hashable) -> Any | None:
        with self._lock:
            return self._fresh(profile_id, key)

    def generation(self) -> int:
        """A token for "now": pass it to `put` with a page computed from here on."""
        with self._lock:
            return self._writes

    def put(self, profile_id: str, key: Hashable, value: Any, *, generation: int | None = None) -> bool:
        """Keep a page; with `generation`, only if no write for the profile came after it. True if kept."""
        with self._lock:
            if generation is not None and self._last_write(profile_id) > generation:
                return False
            self._store(profile_id, key, value)
            return True

    def invalidate(self, profile_id: str) -> set[Hashable]:
        """Drop the profile's pages; the keys of those it had, cached or being computed, come back (the
        pages its viewer is likely to ask for next)."""
        with self._lock:
            self._writes += 1
            self._written[profile_id] = self._writes
            self._written.move_to_end(profile_id)
            while len(self._written) > self.max_profiles:
                _, oldest = self._written.popitem(last=False)
                self._horizon = max(self._horizon, oldest)
            keys = self._keys.pop(profile_id, set())
            for key in keys:
                self._entries.pop((profile_id, key), None)
            return keys | {key for (profile, key, _) in self._flights if profile == profile_id}

    def get_or_compute(
        self, profile_id: str, key: Hashable, compute: Callable[[], tuple[Any, bool]]
    ) -> tuple[Any, Outcome]:
        """The cached page, or `compute()`'s (value, keep) with the value kept when `keep` is true.

        Concurrent misses on the same page and generation wait for the first one's result.
        """
        while True:
            with self._lock:
                found = self._fresh(profile_id, key)
                if found is not None:
                    return found, "hit"
                generation = self._writes
                ticket = (profile_id, key, self._last_write(profile_id))
                flight = self._flights.get(ticket)
                leader = flight is None
                if flight is None:
                    flight = self._flights[ticket] = _Flight()
            if leader:
                break
            flight.done.wait()
            if not flight.failed:
                return flight.value, "shared"
            # The computation we waited for failed: try again (and likely compute, and fail, ourselves).
        try:
            value, keep = compute()
        except BaseException:
            flight.failed = True
            raise
        else:
            flight.value = value
            if keep:
                self.put(profile_id, key, value, generation=generation)
            return value, "miss"
        finally:
            with self._lock:
                self._flights.pop(ticket, None)
            flight.done.set()

    def _last_write(self, profile_id: str) -> int:
        return self._written.get(profile_id, self._horizon)

    def _fresh(self, profile_id: str, key: Hashable) -> Any | None:
        found = self._entries.get((profile_id, key))
        if found is None:
            return None
        if self.clock() - found[0] > self.ttl_seconds:
            self._drop(profile_id, key)
            return None
        self._entries.move_to_end((profile_id, key))
        return found[1]

    def _store(self, profile_id: str, key: Hashable, value: Any) -> None:
        self._entries[(profile_id, key)] = (self.clock(), value)
        self._entries.move_to_end((profile_id, key))
        self._keys.setdefault(profile_id, set()).add(key)
        while len(self._entries) > self.max_entries:
            (old_profile, old_key), _ = self._entries.popitem(last=False)
            self._forget_key(old_profile, old_key)

    def _drop(self, profile_id: str, key: Hashable) -> None:
        self._entries.pop((profile_id, key), None)
        self._forget_key(profile_id, key)

    def _forget_key(self, profile_id: str, key: Hashable) -> None:
        keys = self._keys.get(profile_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys[profile_id]
