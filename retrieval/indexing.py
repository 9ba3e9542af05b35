"""Fill a title index: one point per title with its vectors and the payload its filters read."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

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

    With `business`, regions and the maturity rating (derived where MPAA is missing) come from it,
    so region and maturity filters run inside Qdrant.
    """
    cf = als.item_vectors(np.array([t.id for t in titles], dtype=np.int64))
    points = []
    for title, vector in zip(titles, content, strict=True):
        vectors = {CONTENT: vector}
        if title.id in cf:
            vectors[CF] = cf[title.id]
        payload: dict[str, object] = {
            "genres": list(title.genres),
            "popularity": float(popular.get(title.id, 0.0)),
            "trending": float(trend.get(title.id, 0.0)),
        }
        if title.year is not None:
            payload["year"] = title.year
        if title.runtime is not None:
            payload["runtime"] = title.runtime
        if business is not None and title.id in business:
            payload["regions"] = list(business[title.id].regions)
            payload["maturity"] = business[title.id].maturity
        elif title.maturity is not None:
            payload["maturity"] = title.maturity
        points.append(TitlePoint(title.id, vectors, payload))
    return points


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
