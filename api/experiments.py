"""Deterministic assignment of profiles to experiment arms.

A hash of (experiment name, profile id) picks the arm, so a profile keeps its arm across requests,
processes and restarts with nothing stored, and renaming the experiment reshuffles everyone.
The arm is returned with rows and written on every event the profile sends (impressions included), which
is what a per-arm report joins on.
"""

from __future__ import annotations

import hashlib

from engine import Settings


def assign(settings: Settings, profile_id: str) -> str | None:
    """The profile's arm of the configured experiment, or None when no experiment runs."""
    api = settings.api
    if not api.experiment or not api.variants:
        return None
    digest = hashlib.sha256(f"{api.experiment}:{profile_id}".encode()).digest()
    return api.variants[int.from_bytes(digest[:8], "big") % len(api.variants)]
