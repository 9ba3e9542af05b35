"""Per-request diagnostics: time per stage and why a request was served from a fallback.

Each engine request makes its own trace and hands it down the stages, so concurrent requests never see
or overwrite each other's; what it noted comes back with the request's result (`Picks`, `Page`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.results import StageTimer


@dataclass
class Trace:
    """What one request noted about itself."""

    timer: StageTimer = field(default_factory=StageTimer)
    # Why the request was served from the popularity fallback (None when it was not).
    fallback: str | None = None
