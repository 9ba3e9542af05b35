"""A per-profile cache of homepage responses: a page stays put while nothing about the profile changes.

Any write for a profile (events that change its history, onboarding, profile edits) replaces or drops
its entries before it is acknowledged, so the next request reflects it at once; a short time-to-live
lets the bandits' exploration move pages along anyway.

Safe under concurrent requests: a page is kept only if no write for its profile came while it was being
computed, so a page built before a write can never be stored after it. Requests that miss on the same
page at the same time compute it once (the others wait for that result).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

Outcome = Literal["hit", "miss", "shared"]  # shared: waited for a concurrent request's computation
PAGE_TTL_S = 60.0  # how long a page is kept though nothing about its profile changed


class PageStore(Protocol):
    """What the page service needs of a page cache (this process's ProfileCache, or Redis shared by every
    replica, api/redis_pages.py). The guarantee both keep: a page computed before a write began is never
    served once that write has ended (is acknowledged)."""

    # True: `get` is a memory read, cheap enough for the event loop; False: it is a network call.
    in_process: ClassVar[bool]

    def get(self, profile_id: str, key: Hashable) -> Any | None: ...

    def get_or_compute(
        self, profile_id: str, key: Hashable, compute: Callable[[], tuple[Any, bool]]
    ) -> tuple[Any, Outcome]: ...

    def begin_write(self, profile_id: str) -> tuple[Any, set[Hashable]]: ...

    def end_write(self, profile_id: str, pages: Mapping[Hashable, Any], token: Any) -> None: ...

    def invalidate(self, profile_id: str) -> None: ...

    def forget_all(self) -> None: ...


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    failed: bool = False


class Flights:
    """Requests that miss on the same page at the same time compute it once: the first (the leader)
    computes, the others wait for its value, or try again if it failed. A ticket is (profile, key, the
    write the page is computed after), so a page computed before a write is never shared after it."""

    def __init__(self) -> None:
        self._flights: dict[tuple[str, Hashable, Hashable], _Flight] = {}
        self._lock = threading.Lock()

    def join(self, ticket: tuple[str, Hashable, Hashable]) -> tuple[_Flight, bool]:
        """The ticket's flight, and whether this caller leads it (computes the page)."""
        with self._lock:
            flight = self._flights.get(ticket)
            if flight is not None:
                return flight, False
            flight = self._flights[ticket] = _Flight()
            return flight, True

    @staticmethod
    def shared(flight: _Flight) -> bool:
        """Wait for a flight another request leads: True when its value (`flight.value`) is there."""
        flight.done.wait()
        return not flight.failed

    def lead(
        self,
        ticket: tuple[str, Hashable, Hashable],
        flight: _Flight,
        compute: Callable[[], tuple[Any, bool]],
        keep: Callable[[Any], None],
    ) -> Any:
        """`compute()`'s value for this request and every one waiting on the flight; `keep(value)` runs
        (when compute says to) while the page still counts as being computed, so a write that begins
        meanwhile rebuilds it."""
        try:
            value, kept = compute()
        except BaseException:
            flight.failed = True
            raise
        else:
            flight.value = value
            if kept:
                keep(value)
            return value
        finally:
            with self._lock:
                self._flights.pop(ticket, None)
            flight.done.set()

    def keys(self, profile_id: str) -> set[Hashable]:
        """The keys of the profile's pages being computed."""
        with self._lock:
            return {key for (profile, key, _) in self._flights if profile == profile_id}


@dataclass
class _Latest:
    """The latest token per profile for the `limit` most recently set profiles; a forgotten profile
    counts as at the latest token among the forgotten, which errs on the side of refusing a page."""

    limit: int
    _tokens: OrderedDict[str, int] = field(default_factory=OrderedDict)
    _horizon: int = 0

    def set(self, profile_id: str, token: int) -> None:
        self._tokens[profile_id] = token
        self._tokens.move_to_end(profile_id)
        while len(self._tokens) > self.limit:
            _, oldest = self._tokens.popitem(last=False)
            self._horizon = max(self._horizon, oldest)

    def get(self, profile_id: str) -> int:
        return self._tokens.get(profile_id, self._horizon)

    def reset(self, token: int) -> None:
        """Every profile at `token` at least: as if each had just been set to it."""
        self._tokens.clear()
        self._horizon = token


@dataclass
class ProfileCache:
    in_process: ClassVar[bool] = True
    ttl_seconds: float = PAGE_TTL_S
    max_entries: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[tuple[str, Hashable], tuple[float, Any]] = field(default_factory=OrderedDict)
    _keys: dict[str, set[Hashable]] = field(default_factory=dict)  # per profile, for invalidate
    max_profiles: int = 100_000  # profiles whose latest writes are remembered one by one
    _writes: int = 0  # a clock of writes: every write advances it
    _written: _Latest = field(init=False)  # per profile, its latest write begun
    _ended: _Latest = field(init=False)  # per profile, its latest write ended
    _flights: Flights = field(default_factory=Flights)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._written = _Latest(self.max_profiles)
        self._ended = _Latest(self.max_profiles)

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

    def invalidate(self, profile_id: str) -> None:
        """Drop the profile's pages: the next request for each computes it anew."""
        with self._lock:
            # Also a write that ended: pages of a write begun before it must not come back after it.
            self._ended.set(profile_id, self._mark_write(profile_id))
            self._drop_profile(profile_id)

    def forget_all(self) -> None:
        """Drop every page; like a write for every profile, so no page begun before comes back after."""
        with self._lock:
            self._writes += 1
            self._written.reset(self._writes)
            self._ended.reset(self._writes)
            self._entries.clear()
            self._keys.clear()

    def begin_write(self, profile_id: str) -> tuple[int, set[Hashable]]:
        """A write for the profile starts: pages computed before it can no longer be kept, but the cached
        ones are served until `end_write` (the write is not acknowledged yet). Returns the write's token
        and the keys of the profile's pages, cached or being computed: the ones to rebuild."""
        with self._lock:
            token = self._mark_write(profile_id)
            return token, set(self._keys.get(profile_id, ())) | self._flights.keys(profile_id)

    def end_write(self, profile_id: str, pages: Mapping[Hashable, Any], token: int) -> None:
        """The write of `token` is done: the profile's pages become `pages` (built after it began), any
        other page of it is dropped. Unless a later write ended first: its pages, built later, stay."""
        with self._lock:
            if self._ended.get(profile_id) > token:
                return
            self._ended.set(profile_id, token)
            self._drop_profile(profile_id)
            for key, value in pages.items():
                self._store(profile_id, key, value)

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
                flight, leader = self._flights.join(ticket)  # under the lock: atomic with the lookup
            if leader:
                break
            if self._flights.shared(flight):
                return flight.value, "shared"
            # The computation we waited for failed: try again (and likely compute, and fail, ourselves).

        def keep(value: Any) -> None:
            self.put(profile_id, key, value, generation=generation)

        return self._flights.lead(ticket, flight, compute, keep), "miss"

    def _mark_write(self, profile_id: str) -> int:
        self._writes += 1
        self._written.set(profile_id, self._writes)
        return self._writes

    def _drop_profile(self, profile_id: str) -> None:
        for key in self._keys.pop(profile_id, ()):
            self._entries.pop((profile_id, key), None)

    def _last_write(self, profile_id: str) -> int:
        return self._written.get(profile_id)

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
