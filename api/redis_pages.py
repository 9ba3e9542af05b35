"""The page cache in Redis (MARQUEE_REDIS_URL), shared by every replica: a write acknowledged by one
replica makes every replica's next read of that profile's pages fresh.

Keyspace versioning. Per profile, a hash holds two counters: `w`, the latest write begun, and `l`, the
version whose pages are served; pages live under `page:{profile}:{epoch}.{version}:{key}` with the
in-process cache's time-to-live, and `forget_all` moves the global epoch on. A write begun (`begin_write`)
raises `w`, so a page computed before it can no longer be stored (a page is stored, by one Lua script,
only if `w` and `l` are still the version read before computing it); the pages of `l` are served until the
write ends, when `end_write` stores the rebuilt pages under the write's version and makes it `l`. Readers
read the version from Redis on every request, so they never serve a page older than the last ended write.

Requests that miss on the same page at the same time compute it once per process (not across replicas).
Redis unreachable: pages are computed and served uncached (a warning is logged once per outage), never a
500; writes made meanwhile cannot reach Redis, so a page cached before the outage may be served until its
time-to-live runs out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Hashable, Mapping
from typing import Any, ClassVar

import redis

from api.cache import PAGE_TTL_S, Flights, Outcome
from engine import redact

log = logging.getLogger("marquee.api")
COUNTERS_TTL_MS = 86_400_000  # a profile's versions outlive its pages by far, then go with its activity

# KEYS: epoch, counters. ARGV: page key stem, page key. Returns epoch, live, written, page at live or nil.
_READ = """
local e = redis.call('GET', KEYS[1]) or '0'
local l = redis.call('HGET', KEYS[2], 'l') or '0'
local w = redis.call('HGET', KEYS[2], 'w') or '0'
return {e, l, w, redis.call('GET', ARGV[1] .. e .. '.' .. l .. ':' .. ARGV[2]) or false}
"""
# KEYS: epoch, counters, key set. ARGV: stem, page key, version read ("epoch.w"), body, ttl ms.
_STORE = """
local e = redis.call('GET', KEYS[1]) or '0'
local l = redis.call('HGET', KEYS[2], 'l') or '0'
local w = redis.call('HGET', KEYS[2], 'w') or '0'
if l ~= w or e .. '.' .. w ~= ARGV[3] then return 0 end
redis.call('SET', ARGV[1] .. ARGV[3] .. ':' .. ARGV[2], ARGV[4], 'PX', ARGV[5])
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
return 1
"""
# KEYS: epoch, counters, key set. ARGV: counters ttl ms. Returns the write's epoch, version and page keys.
_BEGIN = """
local e = redis.call('GET', KEYS[1]) or '0'
local w = redis.call('HINCRBY', KEYS[2], 'w', 1)
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return {e, w, redis.call('SMEMBERS', KEYS[3])}
"""
# KEYS: epoch, counters, key set. ARGV: stem, write's epoch, write's version, ttl ms, counters ttl ms,
# then page key, body pairs. A write ended after a later one, or begun before `forget_all`, stores nothing.
_END = """
local e = redis.call('GET', KEYS[1]) or '0'
local l = tonumber(redis.call('HGET', KEYS[2], 'l') or '0')
local t = tonumber(ARGV[3])
if e ~= ARGV[2] or l > t then return 0 end
redis.call('HSET', KEYS[2], 'l', t)
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('DEL', KEYS[3])
for i = 6, #ARGV, 2 do
  redis.call('SET', ARGV[1] .. e .. '.' .. t .. ':' .. ARGV[i], ARGV[i + 1], 'PX', ARGV[4])
  redis.call('SADD', KEYS[3], ARGV[i])
end
if #ARGV >= 6 then redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
return 1
"""
# KEYS: counters, key set. ARGV: counters ttl ms. A write begun and ended at once: no older page is served.
_INVALIDATE = """
local w = redis.call('HINCRBY', KEYS[1], 'w', 1)
redis.call('HSET', KEYS[1], 'l', w)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return w
"""


def _encode(key: Hashable) -> str:
    return json.dumps(key, separators=(",", ":"))


def _decode(raw: bytes) -> Hashable:
    def tupled(value: Any) -> Any:
        return tuple(tupled(v) for v in value) if isinstance(value, list) else value

    found: Hashable = tupled(json.loads(raw))
    return found


class RedisPageStore:
    """A `PageStore` (api/cache.py) in Redis; page bodies are bytes."""

    in_process: ClassVar[bool] = False

    def __init__(
        self, url: str, *, ttl_seconds: float = PAGE_TTL_S, prefix: str = "marquee:", timeout_s: float = 1.0
    ) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self._ttl_ms = int(ttl_seconds * 1000)
        self._prefix = prefix
        self._scripts = {
            name: self._redis.register_script(text)
            for name, text in (
                ("read", _READ), ("store", _STORE), ("begin", _BEGIN), ("end", _END),
                ("invalidate", _INVALIDATE),
            )
        }  # fmt: skip
        self._flights = Flights()
        self._down = False  # logged once per outage

    def get(self, profile_id: str, key: Hashable) -> bytes | None:
        read = self._read(profile_id, key)
        return None if read is None else read[2]

    def get_or_compute(
        self, profile_id: str, key: Hashable, compute: Callable[[], tuple[bytes, bool]]
    ) -> tuple[bytes, Outcome]:
        """The cached page, or `compute()`'s (value, keep) with the value stored when `keep` is true and
        no write for the profile began meanwhile. Redis unreachable: computed, not stored."""
        while True:
            read = self._read(profile_id, key)
            if read is None:
                return compute()[0], "miss"
            live, written, found = read
            if found is not None:
                return found, "hit"
            ticket = (profile_id, key, written)
            flight, leader = self._flights.join(ticket)
            if leader:
                break
            if self._flights.shared(flight):
                return flight.value, "shared"

        def keep(value: bytes) -> None:
            if live == written:  # while a write is under way, pages wait for its rebuild
                self._call("store", profile_id, [self._page_stem(profile_id), _encode(key), written, value,
                                                 self._ttl_ms])  # fmt: skip

        return self._flights.lead(ticket, flight, compute, keep), "miss"

    def begin_write(self, profile_id: str) -> tuple[tuple[bytes, int] | None, set[Hashable]]:
        """Pages computed from now on may be stored again only by `end_write`; the pages cached are served
        until then. Returns the write's token and the profile's page keys, cached or being computed here.
        Redis unreachable: no token, and `end_write` stores nothing."""
        keys = self._flights.keys(profile_id)
        began = self._call("begin", profile_id, [COUNTERS_TTL_MS])
        if began is None:
            return None, keys
        epoch, version, cached = began
        return (epoch, int(version)), keys | {_decode(raw) for raw in cached}

    def end_write(
        self, profile_id: str, pages: Mapping[Hashable, bytes], token: tuple[bytes, int] | None
    ) -> None:
        """The write of `token` is done: every replica serves `pages` (built after it began) and no other
        page of the profile, unless a later write ended first."""
        if token is None:
            return
        epoch, version = token
        pairs = [part for key, body in pages.items() for part in (_encode(key), body)]
        self._call(
            "end",
            profile_id,
            [self._page_stem(profile_id), epoch, version, self._ttl_ms, COUNTERS_TTL_MS, *pairs],
        )

    def invalidate(self, profile_id: str) -> None:
        try:
            self._scripts["invalidate"](
                keys=[self._key("versions", profile_id), self._key("keys", profile_id)],
                args=[COUNTERS_TTL_MS],
            )
        except redis.RedisError as exc:
            self._unreachable(exc)
        else:
            self._reachable()

    def forget_all(self) -> None:
        try:
            self._redis.incr(self._prefix + "epoch")
        except redis.RedisError as exc:
            self._unreachable(exc)
        else:
            self._reachable()

    def close(self) -> None:
        self._redis.close()

    def _read(self, profile_id: str, key: Hashable) -> tuple[str, str, bytes | None] | None:
        """(live version, written version, the page at the live version), or None when Redis is down."""
        found = self._call("read", profile_id, [self._page_stem(profile_id), _encode(key)], three_keys=False)
        if found is None:
            return None
        epoch, live, written, page = (found + [None])[:4]
        return f"{epoch.decode()}.{live.decode()}", f"{epoch.decode()}.{written.decode()}", page

    def _call(self, script: str, profile_id: str, args: list[Any], *, three_keys: bool = True) -> Any:
        keys = [self._prefix + "epoch", self._key("versions", profile_id)]
        if three_keys:
            keys.append(self._key("keys", profile_id))
        try:
            result = self._scripts[script](keys=keys, args=args)
        except redis.RedisError as exc:
            self._unreachable(exc)
            return None
        self._reachable()
        return result

    def _key(self, kind: str, profile_id: str) -> str:
        return f"{self._prefix}{kind}:{profile_id}"

    def _page_stem(self, profile_id: str) -> str:
        return f"{self._prefix}page:{profile_id}:"

    def _unreachable(self, exc: redis.RedisError) -> None:
        if not self._down:
            self._down = True
            log.warning("page cache in Redis unreachable, serving pages uncached: %s",
                        redact(f"{type(exc).__name__}: {exc}"))  # fmt: skip

    def _reachable(self) -> None:
        if self._down:
            self._down = False
            log.info("page cache in Redis reachable again")
