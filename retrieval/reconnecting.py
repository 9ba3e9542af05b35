"""`ReconnectingIndex`: a title index behind a server that may be away, at start or later.

A server that does not answer when the service starts must not keep the service from starting: until a
connection is made every call raises IndexUnavailableError, which serving answers from in-memory
popularity under the same filters (flagged degraded), while a background thread retries with
exponential backoff. Once connected, calls go to the real index and the service has recovered by itself.
A server that goes away after that is the real index's to report, call by call, as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import numpy as np

from retrieval.index import Hit, IndexUnavailableError, TitleFilter, TitleIndex, TitlePoint
from retrieval.redact import redact

log = logging.getLogger("marquee.index")


class ReconnectingIndex:
    """The TitleIndex protocol over `connect()`'s index, retried in the background until it succeeds."""

    def __init__(
        self, connect: Callable[[], TitleIndex], *, first_wait_s: float = 0.5, max_wait_s: float = 30.0
    ) -> None:
        self._connect = connect
        self._first_wait_s = first_wait_s
        self._max_wait_s = max_wait_s
        self._index: TitleIndex | None = None
        self._error = "not connected yet"
        self._closed = threading.Event()
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self.attempts = 0
        if not self._attempt():
            threading.Thread(target=self._retry, name="index-reconnect", daemon=True).start()

    @property
    def connected(self) -> bool:
        return self._index is not None

    @property
    def status(self) -> str:
        """What an operator should know: connected, or the last error and how often it was tried."""
        if self._index is not None:
            return "connected"
        return f"unreachable after {self.attempts} attempts, retrying: {self._error}"

    def wait(self, timeout: float) -> bool:
        """Whether a connection is made within `timeout` seconds (tests, and callers that can wait)."""
        return self._connected.wait(timeout)

    def _attempt(self) -> bool:
        self.attempts += 1
        try:
            index = self._connect()
        except Exception as exc:  # any failure to connect is "away"; the reason is kept for /readyz
            self._error = redact(f"{type(exc).__name__}: {exc}")
            log.warning("title index unreachable (attempt %d): %s", self.attempts, self._error)
            return False
        with self._lock:
            if self._closed.is_set():
                index.close()
                return True
            self._index = index
            self._connected.set()
        if self.attempts > 1:
            log.info("title index connected after %d attempts", self.attempts)
        return True

    def _retry(self) -> None:
        wait = self._first_wait_s
        while not self._closed.wait(wait):
            if self._attempt():
                return
            wait = min(self._max_wait_s, wait * 2)

    def _live(self) -> TitleIndex:
        index = self._index
        if index is None:
            raise IndexUnavailableError(f"title index {self.status}")
        return index

    # -- the TitleIndex protocol ------------------------------------------------------------------------

    def upsert(self, points: Sequence[TitlePoint]) -> None:
        self._live().upsert(points)

    def search(
        self, *, vector: str, query: np.ndarray, k: int, where: TitleFilter | None = None, exact: bool = False
    ) -> list[Hit]:
        return self._live().search(vector=vector, query=query, k=k, where=where, exact=exact)

    def top_by(self, *, field: str, k: int, where: TitleFilter | None = None) -> list[Hit]:
        return self._live().top_by(field=field, k=k, where=where)

    def vectors(self, *, vector: str, ids: Sequence[int]) -> dict[int, np.ndarray]:
        return self._live().vectors(vector=vector, ids=ids)

    def count(self) -> int:
        return self._live().count()

    def known_down(self) -> str | None:
        """Not connected yet: known down, said from the connection's state (no network call)."""
        index = self._index
        return f"title index {self.status}" if index is None else index.known_down()

    def close(self) -> None:
        with self._lock:
            self._closed.set()
            index, self._index = self._index, None
        if index is not None:
            index.close()
