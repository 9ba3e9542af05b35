"""A circuit breaker for an outside dependency that can fail slowly (a language model, a vector store).

Closed: calls go through. After `failures` consecutive failures (or one failure that trips it, such as a
timeout, which already cost its caller the whole wait) it opens: calls are refused at once for
`cool_down_s`, so every request stops paying the dependency's timeout. Then it is half-open: exactly one
caller is let through as a probe; its success closes the breaker, its failure opens it for another
cool-down. The clock is injectable so tests move time instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class Admission:
    """The answer to "may I call it now?": `probe` marks the one call a half-open breaker lets through."""

    allowed: bool
    probe: bool = False
    retry_in_s: float = 0.0  # when refused: seconds until a probe will be let through


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failures: int = 2,
        cool_down_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1 or cool_down_s <= 0:
            raise ValueError("a breaker needs failures >= 1 and cool_down_s > 0")
        self.name = name
        self.failures = failures
        self.cool_down_s = cool_down_s
        self._clock = clock
        self._lock = threading.Lock()
        self._consecutive = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state()

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self.cool_down_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def open_for(self) -> float:
        """Seconds until a probe may go through; 0 when closed or half-open. Asks without admitting."""
        with self._lock:
            if self._state() is not BreakerState.OPEN:
                return 0.0
            assert self._opened_at is not None
            return max(0.0, self._opened_at + self.cool_down_s - self._clock())

    def admit(self) -> Admission:
        with self._lock:
            state = self._state()
            if state is BreakerState.CLOSED:
                return Admission(True)
            assert self._opened_at is not None
            if state is BreakerState.HALF_OPEN and not self._probing:
                self._probing = True  # one probe at a time: the others keep the fast path
                return Admission(True, probe=True)
            left = max(0.0, self._opened_at + self.cool_down_s - self._clock())
            return Admission(False, retry_in_s=left)

    def success(self) -> None:
        with self._lock:
            self._consecutive = 0
            self._opened_at = None
            self._probing = False

    def failure(self, *, trip: bool = False) -> None:
        """A failed call; `trip` opens the breaker whatever the count."""
        with self._lock:
            self._consecutive += 1
            if trip or self._probing or self._consecutive >= self.failures:
                self._opened_at = self._clock()
            self._probing = False

    def release(self) -> None:
        """A call that was admitted ended without a verdict (cancelled): let the next caller probe."""
        with self._lock:
            self._probing = False
