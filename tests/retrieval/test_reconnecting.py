"""A title index whose server is away at start: calls fail fast while it is retried, then it recovers."""

from __future__ import annotations

import numpy as np
import pytest
from qdrant_client import QdrantClient

from retrieval import ClientIndex, IndexUnavailableError, ReconnectingIndex, TitleIndex, TitlePoint

DIMS = {"cf": 4, "content": 4}
LOCAL_MODE_WARNING = "ignore:Payload indexes have no effect in the local Qdrant:UserWarning"


def _point(i: int) -> TitlePoint:
    vec = np.eye(4, dtype=np.float32)[i % 4]
    return TitlePoint(id=i, vectors={"cf": vec, "content": vec}, payload={"popularity": float(i)})


@pytest.mark.filterwarnings(LOCAL_MODE_WARNING)
def test_away_at_start_then_back_without_a_restart() -> None:
    failures = 3

    def connect() -> TitleIndex:
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionError("http://user:secret@127.0.0.1:1 refused")
        index = ClientIndex.create(QdrantClient(":memory:"), DIMS)
        index.upsert([_point(i) for i in range(1, 9)])
        return index

    index = ReconnectingIndex(connect, first_wait_s=0.01, max_wait_s=0.02)
    try:
        with pytest.raises(IndexUnavailableError, match="retrying") as err:
            index.top_by(field="popularity", k=3)  # answered at once, not after a connect timeout
        assert "secret" not in str(err.value) and "***@127.0.0.1" in str(err.value)
        down = index.known_down()  # from the connection's state: no call to make
        assert down is not None and "retrying" in down and "secret" not in down
        assert index.wait(5.0), index.status
        assert index.known_down() is None
        assert index.attempts == 4 and index.status == "connected"
        assert [h.id for h in index.top_by(field="popularity", k=3)] == [8, 7, 6]
        assert index.count() == 8
    finally:
        index.close()
    with pytest.raises(IndexUnavailableError):
        index.count()


def test_close_stops_the_retries() -> None:
    calls = 0

    def never() -> TitleIndex:
        nonlocal calls
        calls += 1
        raise ConnectionError("refused")

    index = ReconnectingIndex(never, first_wait_s=0.01, max_wait_s=0.01)
    index.close()
    seen = calls
    assert not index.wait(0.1)
    assert calls <= seen + 1  # at most the attempt in flight when it closed
