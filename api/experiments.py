"""The profile's experiment arm: a thin call into the engine, which owns assignment."""

from __future__ import annotations

from engine import Settings, assign_arm


def assign(settings: Settings, profile_id: str) -> str | None:
    """The profile's arm of the configured experiment ("interleaved" in interleave mode), or None."""
    return assign_arm(settings.experiment, profile_id)
