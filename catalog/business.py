"""Business facts per title (originals, licence windows, regions, maturity), synthetic by design.

MovieLens carries no business data, so it is derived deterministically from each title's id and a seed.
Every draw comes from a hash of (seed, id), never from shared random state: adding or removing titles
leaves every other title's facts unchanged, and the same seed gives the same catalog on any machine.
Maturity is the one real field: the title's MPAA rating when the metadata has one.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from catalog.metadata import MATURITY_RATINGS, normalize_maturity
from catalog.titles import Title

# Least to most restrictive; the same scale the metadata join normalizes to.
MATURITY_ORDER: tuple[str, ...] = MATURITY_RATINGS
REGIONS = ("BR", "DE", "FR", "GB", "IN", "JP", "US")
HOME_REGION = "US"  # every title is available at home; other regions are drawn

ORIGINAL_SHARE = 0.04
LEAVING_SOON_SHARE = 0.06
LEAVING_SOON_DAYS = 30.0
MAX_LICENCE_DAYS = 720.0
REGION_SHARE = 0.8
DAY = 86_400.0

_CHILDREN_GENRES = frozenset({"Children", "Children's", "Animation"})


@dataclass(frozen=True, slots=True)
class Business:
    """What the service knows about a title beyond its content; `licence_expires` is unix seconds."""

    original: bool
    licence_expires: float  # inf for originals: they never leave
    regions: tuple[str, ...]  # in REGIONS order, always holding HOME_REGION
    maturity: str  # one of MATURITY_ORDER

    def expiring_within(self, seconds: float, *, now: float) -> bool:
        """True when the licence ends within `seconds` of `now` (the "leaving soon" row)."""
        return self.licence_expires - now <= seconds


def derive_business(titles: Mapping[int, Title], *, now: float, seed: int = 7) -> dict[int, Business]:
    """Synthetic business facts for every title, stable per (seed, id); see the module docstring."""
    return {tid: _derive_one(title, now=now, seed=seed) for tid, title in titles.items()}


def allowed_maturity(limit: str | None) -> tuple[str, ...]:
    """The ratings at or below `limit` ('PG-13' -> G, PG, PG-13); None means no limit."""
    if limit is None:
        return MATURITY_ORDER
    if limit not in MATURITY_ORDER:
        raise ValueError(f"unknown maturity limit {limit!r}; valid: {', '.join(MATURITY_ORDER)}")
    return MATURITY_ORDER[: MATURITY_ORDER.index(limit) + 1]


def genre_maturity(genres: tuple[str, ...]) -> str:
    """A rating guess for unrated titles; the stricter rating wins when genres disagree (animated horror)."""
    if "Horror" in genres:
        return "R"
    if _CHILDREN_GENRES.intersection(genres):
        return "G"
    return "PG-13"


def _derive_one(title: Title, *, now: float, seed: int) -> Business:
    draws = _uniforms(seed, title.id)
    original = bool(draws[0] < ORIGINAL_SHARE)
    if original:
        expires = math.inf
    elif draws[1] < LEAVING_SOON_SHARE:
        expires = now + DAY * LEAVING_SOON_DAYS * draws[2]
    else:
        expires = now + DAY * (LEAVING_SOON_DAYS + (MAX_LICENCE_DAYS - LEAVING_SOON_DAYS) * draws[2])
    regions = tuple(
        r
        for r, u in zip(REGIONS, draws[3 : 3 + len(REGIONS)], strict=True)
        if r == HOME_REGION or u < REGION_SHARE
    )
    maturity = normalize_maturity(title.maturity) or genre_maturity(title.genres)
    return Business(original=original, licence_expires=float(expires), regions=regions, maturity=maturity)


def _uniforms(seed: int, title_id: int) -> np.ndarray:
    """16 uniforms in [0, 1) from one keyed hash of (seed, id); portable, unlike Python's hash()."""
    digest = hashlib.blake2b(f"{seed}:{title_id}".encode(), digest_size=64).digest()
    return np.frombuffer(digest, dtype="<u4").astype(np.float64) / 2.0**32
