"""Fill a title index: one point per title with its vectors and the payload its filters read."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from catalog import Business, Interactions, Title
from retrieval.als import ALSModel
from retrieval.index import CF, CONTENT, TitleIndex, TitlePoint

DAY = 86_400.0


def popularity(interactions: Interactions) -> dict[int, float]:
    """Interactions per title."""
    ids, counts = np.unique(interactions.items, return_counts=True)
    return dict(zip(ids.tolist(), counts.astype(float).tolist(), strict=True))


def trending(
    interactions: Interactions, *, half_life_days: float, now: float | None = None
) -> dict[int, float]:
    """Time-decayed interactions per title as of `now` (default: the last interaction).

    Untimed data has no notion of recent, so it falls back to plain popularity.
    """
    if not interactions.timed:
        return popularity(interactions)
    now = float(interactions.timestamps.max()) if now is None else now
    age_days = np.maximum(now - interactions.timestamps, 0) / DAY
    weight = 0.5 ** (age_days / half_life_days)
    ids, inverse = np.unique(interactions.items, return_inverse=True)
    return dict(zip(ids.tolist(), np.bincount(inverse, weights=weight).tolist(), strict=True))


def title_points(
    titles: Sequence[Title],
    content: np.ndarray,
    als: ALSModel,
    popular: Mapping[int, float],
    trend: Mapping[int, float],
    business: Mapping[int, Business] | None = None,
) -> list[TitlePoint]:
    """Every title gets a content vector; only titles ALS was trained on get a `cf` vector.

    The payload is `filter_payload` plus the popularity and trending scores `top_by` orders by.
    """
    cf = als.item_vectors(np.array([t.id for t in titles], dtype=np.int64))
    points = []
    for title, vector in zip(titles, content, strict=True):
        vectors = {CONTENT: vector}
        if title.id in cf:
            vectors[CF] = cf[title.id]
        payload = filter_payload(title, business.get(title.id) if business is not None else None)
        payload["popularity"] = float(popular.get(title.id, 0.0))
        payload["trending"] = float(trend.get(title.id, 0.0))
        points.append(TitlePoint(title.id, vectors, payload))
    return points


def filter_payload(title: Title, business: Business | None) -> dict[str, Any]:
    """The payload fields a TitleFilter reads; a field the title lacks is left out, so its filters exclude it.

    With `business`, regions and the maturity rating (derived where MPAA is missing) come from it,
    so region and maturity filters run inside Qdrant.
    """
    payload: dict[str, Any] = {"genres": list(title.genres)}
    if title.year is not None:
        payload["year"] = title.year
    if title.runtime is not None:
        payload["runtime"] = title.runtime
    if business is not None:
        payload["regions"] = list(business.regions)
        payload["maturity"] = business.maturity
    elif title.maturity is not None:
        payload["maturity"] = title.maturity
    return payload


def fill_index(
    index: TitleIndex,
    points: Sequence[TitlePoint],
    *,
    batch: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> None:
    for start in range(0, len(points), batch):
        chunk = points[start : start + batch]
        index.upsert(chunk)
        if progress:
            progress(len(chunk))
