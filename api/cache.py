"""A per-profile cache of homepage responses: a page stays put while nothing about the profile changes.

Any write for a profile (events, onboarding, profile edits) drops its entries, so the next request
reflects it at once; a short time-to-live lets the bandits' exploration move pages along anyway.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProfileCache:
    ttl_seconds: float = 60.0
    max_entries: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[tuple[str, Hashable], tuple[float, Any]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, profile_id: str, key: Hashable) -> Any | None:
        with self._lock:
            found = self._entries.get((profile_id, key))
            if found is None or self.clock() - found[0] > self.ttl_seconds:
                return None
            self._entries.move_to_end((profile_id, key))
            return found[1]

    def put(self, profile_id: str, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[(profile_id, key)] = (self.clock(), value)
            self._entries.move_to_end((profile_id, key))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def invalidate(self, profile_id: str) -> None:
        with self._lock:
            for entry in [e for e in self._entries if e[0] == profile_id]:
                del self._entries[entry]
