"""`ClientIndex`: the title index in one collection behind qdrant-client.

For a Qdrant server or cluster (`QdrantClient(url=...)`, see `ClientIndex.connect`) and for
qdrant-client's local mode (`QdrantClient(":memory:")` or `QdrantClient(path=...)`), which implements
the same API in Python: fine for tests and small data, too slow to serve. Local mode always scans
exactly, so it is sent no search params; it warns once that payload indexes have no effect there.
"""

from __future__ import annotations

import importlib.metadata
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx
import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
from qdrant_client.local.qdrant_local import QdrantLocal

from retrieval.index import (
    DISTANCES,
    PAYLOAD_SCHEMA,
    CheckedIndex,
    FilterModel,
    Hit,
    IndexUnavailableError,
    PlainPoint,
    TitleFilter,
    check_dims,
    search_ef,
)
from retrieval.redact import redact

DEFAULT_COLLECTION = "titles"

_DISTANCE = {"cosine": models.Distance.COSINE, "dot": models.Distance.DOT}
_SCHEMA = {
    "keyword": models.PayloadSchemaType.KEYWORD,
    "integer": models.PayloadSchemaType.INTEGER,  # lookup + range: order_by works on it
    "float": models.PayloadSchemaType.FLOAT,
}


_MODEL: FilterModel[models.Condition] = FilterModel(
    has_id=lambda ids: models.HasIdCondition(has_id=sorted(int(i) for i in ids)),
    any_of=lambda name, values: models.FieldCondition(key=name, match=models.MatchAny(any=sorted(values))),
    in_range=lambda name, gte, lte: models.FieldCondition(key=name, range=models.Range(gte=gte, lte=lte)),
)


def client_filter(where: TitleFilter | None) -> models.Filter | None:
    """TitleFilter -> qdrant-client Filter (None when there is no condition)."""
    if where is None or where.empty:
        return None
    must, must_not = _MODEL.spell(where)
    return models.Filter(must=must or None, must_not=must_not or None)


# After a call finds the server away, the index says it is known down this long; then a request tries again.
RECHECK_S = 5.0

TRANSPORT_ERRORS = (
    ResponseHandlingException,
    UnexpectedResponse,
    httpx.TransportError,
    ConnectionError,
    TimeoutError,
)


class ClientIndex(CheckedIndex):
    """The TitleIndex protocol over one qdrant-client collection (`hnsw_ef` applies to a server only)."""

    def __init__(
        self, client: QdrantClient, collection: str, dims: Mapping[str, int], *, hnsw_ef: int | None = None
    ) -> None:
        super().__init__(dims, hnsw_ef=hnsw_ef)
        self._client: QdrantClient | None = client
        self.collection = collection
        # Local mode always scans exactly and warns about any search params, so it gets none.
        self.local = isinstance(getattr(client, "_client", None), QdrantLocal)
        self.recheck_s = RECHECK_S
        self._failed: tuple[float, str] | None = None  # when the last call found the server away, and why

    # -- construction -------------------------------------------------------------------------------

    @staticmethod
    def connect(url: str, *, api_key: str | None = None, timeout: int = 10) -> QdrantClient:
        """A client for the Qdrant server or cluster at `url`, checked to answer.

        Raises IndexUnavailableError when the server cannot be reached or refuses the request (e.g. a
        wrong API key). Warns, like qdrant-client does, when the server's version is incompatible.
        """
        client = QdrantClient(url=url, api_key=api_key, timeout=timeout, check_compatibility=False)
        try:
            server_version = client.info().version
        except Exception as exc:
            client.close()
            raise IndexUnavailableError(redact(f"Qdrant at {url} is unavailable: {exc}")) from exc
        _warn_if_incompatible(url, server_version)
        return client

    @classmethod
    def create(
        cls,
        client: QdrantClient,
        dims: Mapping[str, int],
        *,
        collection: str = DEFAULT_COLLECTION,
        replace: bool = False,
        hnsw_ef: int | None = None,
    ) -> ClientIndex:
        """A fresh, empty collection with the named vectors and a payload index per PAYLOAD_SCHEMA field.

        Raises FileExistsError if the collection exists, unless `replace` asks to delete it first.
        """
        dims = check_dims(dims)
        if client.collection_exists(collection):
            if not replace:
                raise FileExistsError(
                    f"collection {collection!r} already exists; open it or pass replace=True"
                )
            client.delete_collection(collection)
        client.create_collection(
            collection,
            vectors_config={
                name: models.VectorParams(size=size, distance=_DISTANCE[DISTANCES[name]])
                for name, size in dims.items()
            },
        )
        for field_name, kind in PAYLOAD_SCHEMA.items():
            # A no-op in local mode (which warns so); a server needs it to filter fast and to order_by.
            client.create_payload_index(collection, field_name, field_schema=_SCHEMA[kind], wait=True)
        return cls(client, collection, dims, hnsw_ef=hnsw_ef)

    @classmethod
    def open(
        cls, client: QdrantClient, collection: str = DEFAULT_COLLECTION, *, hnsw_ef: int | None = None
    ) -> ClientIndex:
        """The existing collection. Raises IndexUnavailableError if it does not exist."""
        if not client.collection_exists(collection):
            raise IndexUnavailableError(f"collection {collection!r} does not exist; build the index first")
        vectors = client.get_collection(collection).config.params.vectors
        if not isinstance(vectors, Mapping):
            raise IndexUnavailableError(
                f"collection {collection!r} has no named vectors; it is not a title index"
            )
        dims = {name: params.size for name, params in vectors.items()}
        return cls(client, collection, dims, hnsw_ef=hnsw_ef)

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        """A server that stops answering mid-flight is the caller's known failure, not a crash."""
        try:
            yield
        except TRANSPORT_ERRORS as exc:
            reason = redact(f"Qdrant collection {self.collection!r} is unavailable: {exc}")
            self._failed = (time.monotonic(), reason)
            raise IndexUnavailableError(reason) from exc
        self._failed = None

    def known_down(self) -> str | None:
        """The last call's failure, for `recheck_s` after it: requests meanwhile skip straight to their
        fallback instead of each preparing a query for a server that just refused one."""
        failed = self._failed
        if failed is None or time.monotonic() - failed[0] >= self.recheck_s:
            return None
        return failed[1]

    # -- writes ---------------------------------------------------------------------------------------

    def _write(self, points: list[PlainPoint]) -> None:
        """Each batch is acknowledged before the next (wait=True)."""
        batch = [models.PointStruct(id=p.id, vector=_vectors(p), payload=p.payload) for p in points]
        self._open_client().upsert(self.collection, points=batch, wait=True)

    # -- reads ----------------------------------------------------------------------------------------

    def _search(
        self, vector: str, query: np.ndarray, k: int, where: TitleFilter | None, exact: bool
    ) -> list[Hit]:
        with self._reachable():
            response = self._open_client().query_points(
                self.collection,
                query=query.tolist(),
                using=vector,
                query_filter=client_filter(where),
                search_params=self._params(exact, k),
                limit=k,
                with_payload=False,
                with_vectors=False,
            )
        return [Hit(int(p.id), float(p.score)) for p in response.points]

    def _params(self, exact: bool, k: int) -> models.SearchParams | None:
        if self.local:
            return None
        if exact:
            return models.SearchParams(exact=True)
        return models.SearchParams(hnsw_ef=search_ef(k, self.hnsw_ef))

    def _top_by(self, field: str, k: int, where: TitleFilter | None) -> list[Hit]:
        with self._reachable():
            response = self._open_client().query_points(
                self.collection,
                query=models.OrderByQuery(
                    order_by=models.OrderBy(key=field, direction=models.Direction.DESC)
                ),
                query_filter=client_filter(where),
                limit=k,
                with_payload=False,
                with_vectors=False,
            )
        return [Hit(int(p.id), float(p.order_value)) for p in response.points if p.order_value is not None]

    def _vectors(self, vector: str, ids: list[int]) -> dict[int, np.ndarray]:
        with self._reachable():
            records = self._open_client().retrieve(
                self.collection, ids=ids, with_payload=False, with_vectors=[vector]
            )
        out: dict[int, np.ndarray] = {}
        for record in records:
            vec = record.vector.get(vector) if isinstance(record.vector, Mapping) else None
            if vec is not None:
                out[int(record.id)] = np.asarray(vec, dtype=np.float32)
        return out

    def count(self) -> int:
        with self._reachable():
            return int(self._open_client().count(self.collection, exact=True).count)

    # -- lifecycle ------------------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the client too: the index owns the client it was given."""
        if self._client is not None:
            client, self._client = self._client, None
            client.close()

    def _open_client(self) -> QdrantClient:
        if self._client is None:
            raise RuntimeError(f"the index on collection {self.collection!r} is closed")
        return self._client


def _warn_if_incompatible(url: str, server_version: str) -> None:
    from qdrant_client.common.version_check import is_compatible

    client_version = importlib.metadata.version("qdrant-client")
    if not is_compatible(client_version, server_version):
        warnings.warn(
            f"qdrant-client {client_version} may not work with the Qdrant server {server_version} "
            f"at {redact(url)}: "
            "major versions should match and minor versions differ by at most 1",
            UserWarning,
            stacklevel=3,
        )


def _vectors(point: PlainPoint) -> dict[str, models.Vector]:
    # Typed as the library's wider value type (dense, sparse, multi, ...); the dict only holds dense ones.
    return dict(point.vectors)
