"""The title index protocol: one Qdrant collection, two backends (Edge in-process, qdrant-client).

Named vectors: `content` (text embedding, cosine) and `cf` (ALS item factors, dot product).
Payload fields used by filters: genres, year, runtime, maturity, regions, popularity, trending.
Every filter runs inside Qdrant; callers never post-filter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

CONTENT = "content"
CF = "cf"
DISTANCES = {CONTENT: "cosine", CF: "dot"}

# payload field -> index type; `keyword` fields hold lists of strings.
PAYLOAD_SCHEMA = {
    "genres": "keyword",
    "regions": "keyword",
    "maturity": "keyword",
    "year": "integer",
    "runtime": "integer",
    "popularity": "float",
    "trending": "float",
}


@dataclass(frozen=True)
class TitleFilter:
    """Conditions a hit must meet. Empty means no condition."""

    exclude_ids: frozenset[int] = frozenset()
    genres_any: tuple[str, ...] = ()
    genres_none: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    max_runtime: int | None = None
    maturity_in: tuple[str, ...] = ()
    region: str | None = None

    @property
    def empty(self) -> bool:
        return self == TitleFilter()


@dataclass(frozen=True, eq=False)
class TitlePoint:
    id: int
    vectors: Mapping[str, np.ndarray]
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    id: int
    score: float


class TitleIndex(Protocol):
    """What every backend provides. `dims` maps vector name to its size."""

    def upsert(self, points: Sequence[TitlePoint]) -> None: ...

    def search(
        self, *, vector: str, query: np.ndarray, k: int, where: TitleFilter | None = None, exact: bool = False
    ) -> list[Hit]:
        """Top-k by the named vector's similarity, best first."""
        ...

    def top_by(self, *, field: str, k: int, where: TitleFilter | None = None) -> list[Hit]:
        """Top-k by a numeric payload field (descending); `score` is the field's value."""
        ...

    def vectors(self, *, vector: str, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Stored vectors of the given ids (missing ids are left out)."""
        ...

    def count(self) -> int: ...

    def close(self) -> None: ...
