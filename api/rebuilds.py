"""Page rebuilds after writes, collapsed: writes to one page that wait for a rebuild share it.

A write's rebuild must read the profile after the write was committed. A rebuild that has not started
yet does so for every write that comes before it starts, so later writes to the same page join it rather
than queueing one each. Rebuilds run at most `slots` at a time (as many as there are page workers), so
under load they wait here, where they can be joined, rather than in the workers' queue.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any


class RebuildFailed(Exception):
    """The rebuild a write joined failed (its cause is chained)."""


@dataclass
class _Rebuild:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class Rebuilds:
    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"rebuild slots must be >= 1; got {slots}")
        self._slots = threading.Semaphore(slots)
        self._waiting: dict[tuple[str, Hashable], _Rebuild] = {}
        self._lock = threading.Lock()

    def run(self, profile_id: str, key: Hashable, compute: Callable[[], Any]) -> Any:
        """`compute()`'s value from a rebuild that starts after this call: this call's own, or one that
        was waiting for a slot when it came. Call it after the write is committed."""
        with self._lock:
            rebuild = self._waiting.get((profile_id, key))
            leader = rebuild is None
            if rebuild is None:
                rebuild = self._waiting[(profile_id, key)] = _Rebuild()
        if not leader:
            rebuild.done.wait()
            if rebuild.error is not None:
                raise RebuildFailed(str(rebuild.error)) from rebuild.error
            return rebuild.value
        with self._slots:
            with self._lock:  # starting: from here on the profile is read, so later writes need another
                del self._waiting[(profile_id, key)]
            try:
                rebuild.value = compute()
            except BaseException as exc:
                rebuild.error = exc
                raise
            finally:
                rebuild.done.set()
        return rebuild.value
