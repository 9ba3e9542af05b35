"""Short-lived locks for work that one replica at a time may do: this process's (the default), or one in
Redis (MARQUEE_REDIS_URL) that every replica takes.

Only one piece of work needs it today: an operator's catalog write (api/routes/operator.py), which reads
the catalog, picks or checks a title id and stores the edit; two replicas doing that at once could give
two new titles one id, the second overwriting the first. Not locked across replicas, on purpose: page
misses (two replicas computing one page is wasted work, not a wrong page: the page store's versions keep
stale pages out) and page rebuilds (each write's rebuild must run on the replica acknowledging it).

The Redis lock is `SET key token NX PX ttl`, released by a script that deletes the key only if it still
holds this holder's token, so a holder that outlived its time-to-live never releases a lock another
replica took since.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import redis

from engine import Settings, redact

log = logging.getLogger("marquee.api")
# KEYS: the lock. ARGV: the holder's token. Deletes the lock only while this holder holds it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LockBusy(Exception):
    """Another holder kept the lock past the wait."""


class LockUnavailable(Exception):
    """The lock's store cannot be reached: the work must not run unlocked."""


class Lock(Protocol):
    def hold(self) -> AbstractContextManager[None]:
        """Held for the block; raises LockBusy or LockUnavailable when it cannot be taken."""
        ...


class ProcessLock:
    """This process's lock: replicas do not see it."""

    def __init__(self, *, wait_s: float = 30.0) -> None:
        self._lock = threading.Lock()
        self._wait_s = wait_s

    @contextmanager
    def hold(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=self._wait_s):
            raise LockBusy(f"still held after {self._wait_s:g} s")
        try:
            yield
        finally:
            self._lock.release()


class RedisLock:
    """A lock every replica on one Redis takes. It expires after `ttl_s` even if its holder died (so a
    killed replica never blocks the others for longer); work under it must end well within that."""

    def __init__(
        self,
        client: redis.Redis,
        name: str,
        *,
        ttl_s: float = 60.0,
        wait_s: float = 30.0,
        poll_s: float = 0.05,
    ) -> None:
        self._redis = client
        self._key = name
        self._release = client.register_script(_RELEASE)
        self._ttl_ms = int(ttl_s * 1000)
        self._wait_s = wait_s
        self._poll_s = poll_s

    @contextmanager
    def hold(self) -> Iterator[None]:
        token = secrets.token_hex(16)
        deadline = time.monotonic() + self._wait_s
        while not self._take(token):
            if time.monotonic() >= deadline:
                raise LockBusy(f"still held by another replica after {self._wait_s:g} s")
            time.sleep(self._poll_s)
        try:
            yield
        finally:
            try:
                self._release(keys=[self._key], args=[token])
            except redis.RedisError as exc:  # it expires by itself; the work is done either way
                log.warning("lock %s not released: %s", self._key, redact(f"{type(exc).__name__}: {exc}"))

    def _take(self, token: str) -> bool:
        try:
            return bool(self._redis.set(self._key, token, nx=True, px=self._ttl_ms))
        except redis.RedisError as exc:
            raise LockUnavailable(redact(f"{type(exc).__name__}: {exc}")) from exc


def catalog_lock(settings: Settings) -> Lock:
    """The lock an operator's catalog write holds: across replicas with MARQUEE_REDIS_URL."""
    if settings.redis_url is None:
        return ProcessLock()
    client = redis.Redis.from_url(
        settings.redis_url.get_secret_value(), socket_timeout=1.0, socket_connect_timeout=1.0
    )
    return RedisLock(client, "marquee:lock:catalog")
