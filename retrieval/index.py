"""The title index protocol: one Qdrant collection, two backends (Edge in-process, qdrant-client).

Named vectors: `content` (text embedding, cosine) and `cf` (ALS item factors, dot product).
Payload fields used by filters: genres, year, runtime, maturity, regions, popularity, trending.
Every filter runs inside Qdrant; callers never post-filter. A `TitleFilter`'s rules are written once, here,
as typed conditions (`TitleFilter.conditions`): each backend only translates the three condition kinds
into its own filter model, and the in-memory fallback evaluates the same conditions (`TitleFilter.admits`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import TracebackType
from typing import Any, Generic, NamedTuple, Protocol, Self, TypeVar, assert_never

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


def search_ef(k: int, hnsw_ef: int | None = None) -> int:
    """HNSW search breadth for a top-k query: `hnsw_ef` if given, else twice k, never below Qdrant's 100.

    Qdrant's own default (max(100, k)) gives recall@100 of about 0.95 on MiniLM title vectors;
    2k gives about 0.99 for ~0.15 ms more at 10k titles.
    """
    return max(hnsw_ef, k) if hnsw_ef is not None else max(100, 2 * k)


NUMERIC_FIELDS = frozenset(f for f, kind in PAYLOAD_SCHEMA.items() if kind in ("integer", "float"))


class IndexUnavailableError(RuntimeError):
    """The index cannot be served: its server is unreachable or refuses us, or its collection is missing."""


class IndexHeldError(IndexUnavailableError):
    """An embedded index that another process holds open (Qdrant Edge serves one process at a time)."""


# The three condition kinds a TitleFilter is made of; `holds` is each one's meaning in memory.


@dataclass(frozen=True)
class HasId:
    """The title's id is one of `ids`."""

    ids: frozenset[int]

    def holds(self, title_id: int, payload: Mapping[str, Any]) -> bool:
        return title_id in self.ids


@dataclass(frozen=True)
class AnyOf:
    """The keyword field (a string or a list of strings) holds at least one of `values`."""

    field: str
    values: frozenset[str]

    def holds(self, title_id: int, payload: Mapping[str, Any]) -> bool:
        value = payload.get(self.field)
        if isinstance(value, str):
            return value in self.values
        return not self.values.isdisjoint(value or ())


@dataclass(frozen=True)
class InRange:
    """The numeric field lies within [gte, lte]; None leaves that end open."""

    field: str
    gte: int | None = None
    lte: int | None = None

    def holds(self, title_id: int, payload: Mapping[str, Any]) -> bool:
        value = payload.get(self.field)
        if value is None:
            return False
        return (self.gte is None or value >= self.gte) and (self.lte is None or value <= self.lte)


Condition = HasId | AnyOf | InRange
C = TypeVar("C")  # a backend's own condition model


@dataclass(frozen=True)
class Conditions:
    """A hit meets every `must` condition and no `must_not` one.

    A condition on a field the title lacks is false, as in Qdrant: a title without a year fails a year
    range (`must`), and a title without genres passes an excluded genre (`must_not`).
    """

    must: tuple[Condition, ...] = ()
    must_not: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class FilterModel(Generic[C]):
    """How one backend spells each condition kind; `spell` turns a filter into its must / must_not lists."""

    has_id: Callable[[frozenset[int]], C]
    any_of: Callable[[str, frozenset[str]], C]
    in_range: Callable[[str, int | None, int | None], C]

    def spell(self, where: TitleFilter) -> tuple[list[C], list[C]]:
        rules = where.conditions
        return [self._one(c) for c in rules.must], [self._one(c) for c in rules.must_not]

    def _one(self, condition: Condition) -> C:
        match condition:
            case HasId(ids):
                return self.has_id(ids)
            case AnyOf(name, values):
                return self.any_of(name, values)
            case InRange(name, gte, lte):
                return self.in_range(name, gte, lte)
        assert_never(condition)


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

    @cached_property
    def conditions(self) -> Conditions:
        """The rules as typed conditions on payload fields; cached, as the fallback asks once per title."""
        must: list[Condition] = []
        must_not: list[Condition] = []
        if self.exclude_ids:
            must_not.append(HasId(self.exclude_ids))
        if self.genres_any:
            must.append(AnyOf("genres", frozenset(self.genres_any)))
        if self.genres_none:
            must_not.append(AnyOf("genres", frozenset(self.genres_none)))
        if self.year_min is not None or self.year_max is not None:
            must.append(InRange("year", gte=self.year_min, lte=self.year_max))
        if self.max_runtime is not None:
            must.append(InRange("runtime", lte=self.max_runtime))
        if self.maturity_in:
            must.append(AnyOf("maturity", frozenset(self.maturity_in)))
        if self.region is not None:
            must.append(AnyOf("regions", frozenset((self.region,))))
        return Conditions(tuple(must), tuple(must_not))

    def admits(self, title_id: int, payload: Mapping[str, Any]) -> bool:
        """Whether a title with this payload meets the filter, judged in memory as the index judges it."""
        rules = self.conditions
        for condition in rules.must:
            if not condition.holds(title_id, payload):
                return False
        # A loop, not all(<generator>): the fallback asks this for every title it scans, and it is faster.
        for condition in rules.must_not:  # noqa: SIM110
            if condition.holds(title_id, payload):
                return False
        return True


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
        """Top-k by the named vector's similarity, best first, equal scores by id."""
        ...

    def top_by(self, *, field: str, k: int, where: TitleFilter | None = None) -> list[Hit]:
        """Top-k by a numeric payload field (descending); `score` is the field's value."""
        ...

    def vectors(self, *, vector: str, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Stored vectors of the given ids (missing ids are left out)."""
        ...

    def count(self) -> int: ...

    def known_down(self) -> str | None:
        """Why the index is known to be unreachable right now, or None; judged from the index's own
        state, never by a network call. A caller about to prepare a query (embed a text) asks first and,
        when it is down, goes straight to its fallback. None promises nothing: a call may still raise
        IndexUnavailableError."""
        ...

    def close(self) -> None: ...


class PlainPoint(NamedTuple):
    """A TitlePoint checked against the index's vectors, in plain values any backend can send."""

    id: int
    vectors: dict[str, list[float]]
    payload: dict[str, Any]


WRITE_BATCH = 1_000  # points per write


class CheckedIndex(ABC):
    """What every TitleIndex backend shares: its vectors' sizes, the argument checks, `with` support.

    `upsert`, `search`, `top_by` and `vectors` check their arguments here, once for every backend, and
    leave the storage work to the backend's `_write` (a batch of checked points), `_search`, `_top_by`
    and `_vectors`, which get valid arguments, k > 0 and a non-empty list of ids.
    """

    def __init__(self, dims: Mapping[str, int], *, hnsw_ef: int | None = None) -> None:
        self.dims = dict(dims)
        # HNSW search breadth (at least k); None: max(100, 2k), see `search_ef`.
        self.hnsw_ef = hnsw_ef

    def upsert(self, points: Sequence[TitlePoint]) -> None:
        """Insert or replace points, `WRITE_BATCH` per write."""
        for start in range(0, len(points), WRITE_BATCH):
            self._write(
                [
                    PlainPoint(int(p.id), point_vectors(self.dims, p), plain_payload(p.payload))
                    for p in points[start : start + WRITE_BATCH]
                ]
            )

    def search(
        self, *, vector: str, query: np.ndarray, k: int, where: TitleFilter | None = None, exact: bool = False
    ) -> list[Hit]:
        """Top-k by the named vector's similarity, best first, equal scores by id.

        Titles with the same text have the same content vector, and Qdrant returns equal scores in
        storage order, which changed from one index build to the next: so did the ranker's training
        pools on ml-100k, and its figures. Read on until the run of equal scores at the cut is whole.
        """
        q = checked_query(self.dims, vector, query)
        return _whole_run(lambda limit: self._search(vector, q, limit, where, exact), int(k))

    def top_by(self, *, field: str, k: int, where: TitleFilter | None = None) -> list[Hit]:
        """Top-k by a numeric payload field, descending, equal values by id (as the popularity fallback
        orders them); points without the field are left out."""
        if field not in NUMERIC_FIELDS:
            raise ValueError(f"cannot order by {field!r}; numeric fields: {sorted(NUMERIC_FIELDS)}")
        # Qdrant returns equal values in no fixed order, so the titles at the cut changed from one query
        # (and one build) to the next.
        return _whole_run(lambda limit: self._top_by(field, limit, where), int(k))

    def vectors(self, *, vector: str, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Stored vectors of the given ids (missing ids are left out); cosine vectors come back
        L2-normalized, as stored."""
        checked_vector_name(self.dims, vector)
        return self._vectors(vector, [int(i) for i in ids]) if ids else {}

    def known_down(self) -> str | None:
        """None: an index in hand is up until a call says otherwise (a server backend overrides this)."""
        return None

    @abstractmethod
    def _write(self, points: list[PlainPoint]) -> None: ...

    @abstractmethod
    def _search(
        self, vector: str, query: np.ndarray, k: int, where: TitleFilter | None, exact: bool
    ) -> list[Hit]: ...

    @abstractmethod
    def _top_by(self, field: str, k: int, where: TitleFilter | None) -> list[Hit]: ...

    @abstractmethod
    def _vectors(self, vector: str, ids: list[int]) -> dict[int, np.ndarray]: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _whole_run(fetch: Callable[[int], list[Hit]], k: int) -> list[Hit]:
    """The first `k` of `fetch(limit)`'s best-first hits, equal scores by id: reads past the cut until
    the run of equal scores there is whole, so which of them make the cut never depends on the order
    a backend happens to return them in."""
    if k <= 0:
        return []
    limit = k + k // 4 + 1
    while True:
        hits = fetch(limit)
        if len(hits) < limit or hits[-1].score < hits[k - 1].score:
            return sorted(hits, key=lambda h: (-h.score, h.id))[:k]
        limit *= 2


def plain_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as plain JSON values, the same for every backend.

    numpy scalars become Python numbers, tuples and arrays become lists, and `None` values are dropped:
    a title without a year has no `year` field, so a year filter excludes it in every backend.
    """
    out: dict[str, Any] = {}
    for key, value in payload.items():
        plain = _plain(value)
        if plain is not None:
            out[key] = plain
    return out


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray | list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        return [_plain(v) for v in items if v is not None]
    if isinstance(value, Mapping):
        return plain_payload(value)
    raise TypeError(f"payload value of type {type(value).__name__} is not JSON-like: {value!r}")


def check_dims(dims: Mapping[str, int]) -> dict[str, int]:
    """Validate a vector-name -> size mapping against DISTANCES; returns a plain dict."""
    if not dims:
        raise ValueError("an index needs at least one named vector")
    unknown = set(dims) - set(DISTANCES)
    if unknown:
        raise ValueError(f"unknown vector names {sorted(unknown)}; known: {sorted(DISTANCES)}")
    out = {name: int(size) for name, size in dims.items()}
    bad = {name: size for name, size in out.items() if size <= 0}
    if bad:
        raise ValueError(f"vector sizes must be positive: {bad}")
    return out


def checked_vector_name(dims: Mapping[str, int], vector: str) -> None:
    if vector not in dims:
        raise ValueError(f"unknown vector {vector!r}; index has {sorted(dims)}")


def checked_query(dims: Mapping[str, int], vector: str, query: np.ndarray) -> np.ndarray:
    """The query as a flat float32 array of the named vector's size; ValueError otherwise."""
    checked_vector_name(dims, vector)
    q = np.asarray(query, dtype=np.float32).ravel()
    if q.shape[0] != dims[vector]:
        raise ValueError(f"query for {vector!r} has size {q.shape[0]}, not {dims[vector]}")
    return q


def point_vectors(dims: Mapping[str, int], point: TitlePoint) -> dict[str, list[float]]:
    """A point's named vectors as plain lists, each checked against the index's names and sizes."""
    out: dict[str, list[float]] = {}
    for name, vec in point.vectors.items():
        if name not in dims:
            raise ValueError(f"point {point.id}: unknown vector {name!r}; index has {sorted(dims)}")
        arr = np.asarray(vec, dtype=np.float32).ravel()
        if arr.shape[0] != dims[name]:
            raise ValueError(f"point {point.id}: {name!r} has size {arr.shape[0]}, not {dims[name]}")
        out[name] = arr.tolist()
    return out
