"""Per-request diagnostics: time per stage and why a request was served from a fallback.

Each public engine call starts a fresh trace and keeps it in a context variable, so concurrent requests
(threads of a web server, tasks of an event loop) never see or overwrite each other's, while the caller
that made a request can still read its own trace afterwards (`Engine.last_fallback`, `Engine.timer`).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from engine.results import StageTimer


@dataclass
class Trace:
    """What one request noted about itself."""

    timer: StageTimer = field(default_factory=StageTimer)
    # Why the request was served from the popularity fallback (None when it was not).
    fallback: str | None = None


_current: ContextVar[Trace | None] = ContextVar("marquee_trace", default=None)


def new_trace() -> Trace:
    """A fresh trace, made the current one for this thread or task."""
    trace = Trace()
    _current.set(trace)
    return trace


def current_trace() -> Trace:
    """The trace of this thread's or task's latest request (an empty one before any request)."""
    return _current.get() or Trace()
