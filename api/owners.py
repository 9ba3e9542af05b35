"""Who owns an API key and who owns a profile: the two reads every profile request makes before any work.

On the embedded SQLite store they are indexed reads of microseconds, made on the event loop. On
PostgreSQL (MARQUEE_DATABASE_URL) each is a network round trip: made on the event loop they stalled every
other request (bench/api_load.py on shared stores spent most of the loop's time waiting in them), so
there they go to the worker threads, and the answers are kept for `key_cache_s` seconds
(`MARQUEE_API__KEY_CACHE_S`). That is safe because neither answer ever changes to another owner: a key
is revoked (its hash cleared) or a profile deleted, and ids are never reused. So, on shared stores:
- a key revoked anywhere (another replica, the database itself) stops working on every replica within
  `key_cache_s`; on the replica that sees the revocation itself as well, since it reads the database;
- a profile deleted on another replica is gone at once all the same where its work reads it: the routes
  that trust a kept owner (`ProfileRef`) read the profile to compute a page, store events or a list, and
  answer 404 once it is gone; its pages in Redis are dropped on delete. Only a page cached in another
  replica's own memory (no MARQUEE_REDIS_URL) can still be served there, for up to `key_cache_s`. The
  profile's own routes (read, edit, delete) always read it fresh;
- only found owners are kept: a key or profile made on another replica works here at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

from engine import Accounts, Profile

KEPT_LIMIT = 100_000  # answers kept per kind; the oldest go first (a few MiB at most)
V = TypeVar("V")


@dataclass(frozen=True)
class ProfileRef:
    """A profile the request's key owns, by id only: what routes that read the profile anyway need."""

    id: str
    account_id: str


class _Kept(Generic[V]):
    """Answers kept `ttl_s` seconds, at most `limit` of them. Every answer lives as long, so insertion
    order is expiry order and the first entry is always the oldest."""

    def __init__(self, ttl_s: float, limit: int, clock: Callable[[], float]) -> None:
        self._ttl_s = ttl_s
        self._limit = limit
        self._clock = clock
        self._answers: dict[str, tuple[V, float]] = {}

    def get(self, key: str) -> V | None:
        found = self._answers.get(key)
        if found is None:
            return None
        if found[1] <= self._clock():
            self._answers.pop(key, None)
            return None
        return found[0]

    def put(self, key: str, value: V) -> None:
        if self._ttl_s <= 0:
            return
        self._answers.pop(key, None)  # re-inserted last: its new expiry is the latest
        self._answers[key] = (value, self._clock() + self._ttl_s)
        while len(self._answers) > self._limit:
            self._answers.pop(next(iter(self._answers)), None)

    def drop(self, key: str) -> None:
        self._answers.pop(key, None)


class Owners:
    """The key and profile checks of auth (api/auth.py) over the store the engine serves from.

    `key_cache_s` None: an embedded store, read on the event loop and nothing kept. A number: a shared
    store, read on a worker thread, found owners kept that many seconds (0 keeps none).
    """

    def __init__(
        self,
        accounts: Callable[[], Accounts],
        key_cache_s: float | None,
        *,
        limit: int = KEPT_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._accounts = accounts  # the serving engine's, looked up per call (a reload swaps the engine)
        self._remote = key_cache_s is not None
        ttl_s = key_cache_s or 0.0
        self._keys: _Kept[str] = _Kept(ttl_s, limit, clock)
        self._profiles: _Kept[str] = _Kept(ttl_s, limit, clock)

    async def key_owner(self, key_hash: str) -> str | None:
        """The id of the account holding the key with this hash, or None."""
        kept = self._keys.get(key_hash)
        if kept is not None:
            return kept
        account = await self._read(self._accounts().account_by_key_hash, key_hash)
        if account is None:
            return None
        self._keys.put(key_hash, account.id)
        return account.id

    async def profile(self, profile_id: str) -> Profile | None:
        """The profile as stored now (never a kept copy)."""
        profile = await self._read(self._accounts().profile, profile_id)
        if profile is not None:
            self._profiles.put(profile_id, profile.account_id)
        return profile

    async def profile_ref(self, profile_id: str) -> ProfileRef | None:
        """The profile's id and owner, kept or read."""
        owner = self._profiles.get(profile_id)
        if owner is not None:
            return ProfileRef(profile_id, owner)
        profile = await self.profile(profile_id)
        return None if profile is None else ProfileRef(profile.id, profile.account_id)

    def forget_profile(self, profile_id: str) -> None:
        """This replica deleted it: no kept owner outlives the delete here."""
        self._profiles.drop(profile_id)

    async def _read(self, read: Callable[[str], V], key: str) -> V:
        return await run_in_threadpool(read, key) if self._remote else read(key)
