"""`EdgeIndex`: the title index on Qdrant Edge, Qdrant's engine running inside this process.

One shard on disk holds the named vectors (`content` cosine, `cf` dot) and the payload, with a payload
index on every PAYLOAD_SCHEMA field. `upsert` writes in batches; the next read (or `close`) runs the
shard's optimizers, which build the HNSW graph once a segment is large enough (Qdrant's default
indexing threshold, about 6.5k 384-d vectors); smaller collections are searched by a full scan, which
is exact and fast.
Filters always run inside the shard, through its payload indexes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from qdrant_edge import (
    CountRequest,
    Direction,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    HasIdCondition,
    MatchAny,
    OrderBy,
    PayloadSchemaType,
    Point,
    Query,
    QueryRequest,
    RangeFloat,
    SearchParams,
    UpdateOperation,
)

from retrieval.index import (
    DISTANCES,
    PAYLOAD_SCHEMA,
    CheckedIndex,
    FilterModel,
    Hit,
    IndexHeldError,
    IndexUnavailableError,
    PlainPoint,
    TitleFilter,
    check_dims,
    search_ef,
)

if TYPE_CHECKING:
    from qdrant_edge import ConditionType, NamedVector  # stub-only aliases

_DISTANCE = {"cosine": Distance.Cosine, "dot": Distance.Dot}
_SCHEMA = {
    "keyword": PayloadSchemaType.Keyword,
    "integer": PayloadSchemaType.Integer,
    "float": PayloadSchemaType.Float,
}

_MODEL: FilterModel[ConditionType] = FilterModel(
    has_id=lambda ids: HasIdCondition({int(i) for i in ids}),
    any_of=lambda name, values: FieldCondition(name, match=MatchAny(any=sorted(values))),
    in_range=lambda name, gte, lte: FieldCondition(name, range=RangeFloat(gte=gte, lte=lte)),
)


@lru_cache(maxsize=64)
def edge_filter(where: TitleFilter | None) -> Filter | None:
    """TitleFilter -> Qdrant Edge Filter (None when there is no condition).

    Cached: most of a request's ~10 queries share one filter, and converting its seen ids costs more
    than the rest of a query's Python side. A Filter is immutable, so requests may share one; 64 covers
    the few distinct filters of each request in flight.
    """
    if where is None or where.empty:
        return None
    must, must_not = _MODEL.spell(where)
    return Filter(must=must or None, must_not=must_not or None)


class EdgeIndex(CheckedIndex):
    """The TitleIndex protocol over one Qdrant Edge shard in a directory."""

    def __init__(
        self,
        shard: EdgeShard,
        path: Path,
        dims: Mapping[str, int],
        *,
        hnsw_ef: int | None = None,
        exact: bool = False,
    ) -> None:
        super().__init__(dims, hnsw_ef=hnsw_ef)
        self._shard: EdgeShard | None = shard
        self.path = path
        # Exact search everywhere: for offline runs that must repeat to the digit (a multi-threaded HNSW
        # build differs slightly run to run).
        self.exact = exact
        self._dirty = False

    # -- construction -------------------------------------------------------------------------------

    @classmethod
    def create(
        cls, path: Path, dims: Mapping[str, int], *, hnsw_ef: int | None = None, exact: bool = False
    ) -> EdgeIndex:
        """A fresh, empty shard at `path`. Raises FileExistsError if the path already holds segments."""
        dims = check_dims(dims)
        path = Path(path)
        segments = path / "segments"
        if segments.is_dir() and any(segments.iterdir()):
            raise FileExistsError(f"{path} already holds an index; open it or remove it first")
        config = EdgeConfig(
            vectors={
                name: EdgeVectorParams(size=size, distance=_DISTANCE[DISTANCES[name]])
                for name, size in dims.items()
            }
        )
        path.mkdir(parents=True, exist_ok=True)
        shard = EdgeShard.create(str(path), config)
        for field_name, kind in PAYLOAD_SCHEMA.items():
            shard.update(UpdateOperation.create_field_index(field_name, _SCHEMA[kind]))
        shard.flush()
        return cls(shard, path, dims, hnsw_ef=hnsw_ef, exact=exact)

    @classmethod
    def open(cls, path: Path, *, hnsw_ef: int | None = None) -> EdgeIndex:
        """The shard previously created at `path`. Raises FileNotFoundError if there is none."""
        path = Path(path)
        config_file = path / "edge_config.json"
        if not config_file.is_file():
            raise FileNotFoundError(f"no Qdrant Edge index at {path}")
        try:
            shard = EdgeShard.load(str(path))
        except Exception as exc:  # the binding raises a bare Exception; a held lock is the usual cause
            if "WouldBlock" in str(exc):
                raise IndexHeldError(
                    f"the title index at {path} is open in another process (a running `marquee serve`?); "
                    "Qdrant Edge serves one process at a time: stop it, or use a Qdrant server via QDRANT_URL"
                ) from None
            raise IndexUnavailableError(f"cannot open the title index at {path}: {exc}") from exc
        return cls(shard, path, _dims_from_config(config_file), hnsw_ef=hnsw_ef)

    # -- writes ---------------------------------------------------------------------------------------

    def _write(self, points: list[PlainPoint]) -> None:
        """Index building is deferred: the next read (or `optimize()`, or `close()`) first runs the shard's
        optimizers, so a bulk load in many writes builds its HNSW graph once, and the first query after a
        load is already served by it.
        """
        self._open_shard().update(UpdateOperation.upsert_points([_point(p) for p in points]))
        self._dirty = True

    def optimize(self) -> None:
        """Run the shard's optimizers (HNSW build, segment merges) to completion, then flush to disk."""
        shard = self._open_shard()
        shard.optimize()
        shard.flush()
        self._dirty = False

    # -- reads ----------------------------------------------------------------------------------------

    def _search(
        self, vector: str, query: np.ndarray, k: int, where: TitleFilter | None, exact: bool
    ) -> list[Hit]:
        """By HNSW once built, unless `exact`."""
        request = QueryRequest(
            limit=k,
            query=Query.Nearest(query.tolist(), using=vector),
            filter=edge_filter(where),
            params=self._params(exact, k),
            with_payload=False,
            with_vector=False,
        )
        return [Hit(int(p.id), p.score) for p in self._ready().query(request)]

    def _params(self, exact: bool, k: int) -> SearchParams:
        if exact or self.exact:
            return SearchParams(exact=True)
        return SearchParams(hnsw_ef=search_ef(k, self.hnsw_ef))

    def _top_by(self, field: str, k: int, where: TitleFilter | None) -> list[Hit]:
        request = QueryRequest(
            limit=k,
            query=OrderBy(field, direction=Direction.Desc),
            filter=edge_filter(where),
            with_payload=False,
            with_vector=False,
        )
        points = self._ready().query(request)
        return [Hit(int(p.id), p.order_value) for p in points if p.order_value is not None]

    def _vectors(self, vector: str, ids: list[int]) -> dict[int, np.ndarray]:
        records = self._ready().retrieve(list(ids), with_payload=False, with_vector=[vector])
        out: dict[int, np.ndarray] = {}
        for record in records:
            vec = record.vector.get(vector) if isinstance(record.vector, dict) else None  # named: a dict
            if vec is not None:
                out[int(record.id)] = np.asarray(vec, dtype=np.float32)
        return out

    def count(self) -> int:
        return int(self._ready().count(CountRequest(exact=True)))

    def indexed_vectors_count(self) -> int:
        """How many vectors sit in HNSW-indexed segments (0 until a segment crosses the threshold)."""
        return int(self._ready().info().indexed_vectors_count)

    # -- lifecycle ------------------------------------------------------------------------------------

    def close(self) -> None:
        if self._shard is not None:
            if self._dirty:
                self.optimize()
            shard, self._shard = self._shard, None
            shard.flush()
            shard.close()

    def _ready(self) -> EdgeShard:
        """The shard, optimized first if points were written since the last optimization."""
        if self._dirty:
            self.optimize()
        return self._open_shard()

    def _open_shard(self) -> EdgeShard:
        if self._shard is None:
            raise RuntimeError(f"the index at {self.path} is closed")
        return self._shard


def _dims_from_config(config_file: Path) -> dict[str, int]:
    try:
        vectors = json.loads(config_file.read_text())["vectors"]
        return {name: int(params["size"]) for name, params in vectors.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable Qdrant Edge config {config_file}: {exc}") from exc


def _point(point: PlainPoint) -> Point:
    # Typed as the library's wider value type (dense, sparse, multi); the dict only holds dense ones.
    vectors: dict[str, NamedVector] = dict(point.vectors)
    return Point(point.id, vectors, point.payload)
