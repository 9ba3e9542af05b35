"""A request's context: the profile as of now (or as of the client's local hour), in a region."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from api.errors import ApiError
from engine import REGIONS, Context, Engine


def at_hour(hour: int | None) -> float:
    """Now, or today at `hour` (UTC) when the client says what its local hour is."""
    now = time.time()
    if hour is None:
        return now
    return datetime.fromtimestamp(now, UTC).replace(hour=hour, minute=0, second=0).timestamp()


def context(
    eng: Engine,
    profile_id: str,
    *,
    region: str | None = None,
    device: str | None = None,
    hour: int | None = None,
) -> Context:
    if region is not None and region.upper() not in REGIONS:
        raise ApiError(422, f"unknown region {region!r}; valid: {', '.join(REGIONS)}", field="region")
    return eng.profile_context(
        profile_id, region=region.upper() if region else None, device=device, now=at_hour(hour)
    )
