"""Token buckets per key (an API key's hash, a client address): `rate` requests a minute on average,
bursts up to `rate`.

Two implementations of one `Limiter` protocol, chosen by config in `limiters`: this process's buckets
(`RateLimiter`, the default), or buckets in Redis (`RedisRateLimiter`, with MARQUEE_REDIS_URL) that every
replica spends from, so N replicas allow `rate` a minute per key in total, not N times it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

from engine import Settings, redact

MAX_BUCKETS = 100_000  # past this many keys, refilled buckets are forgotten
DOWN_RETRY_S = 5.0  # after Redis failed, requests skip it (allowed) this long before it is tried again
log = logging.getLogger("marquee.api")


class Limiter(Protocol):
    capacity: float  # the burst, and the requests a minute

    def take(self, key: str) -> float:
        """Spend one token of `key`'s bucket: 0.0 when allowed, else seconds until one is available."""
        ...


class RateLimiter:
    """This process's buckets."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0  # tokens a second
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        now = self._clock()
        with self._lock:
            if len(self._buckets) >= MAX_BUCKETS and key not in self._buckets:
                self._forget_full(now)
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.refill

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold nothing a new bucket would not. Keys are client
        addresses too, which anyone can vary, so the table must not grow without bound."""
        full = [
            k
            for k, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.refill >= self.capacity
        ]
        for key in full:
            del self._buckets[key]


# The same bucket as RateLimiter.take, in one script so that replicas spending from one bucket at once
# never both spend its last token. KEYS: the bucket (a hash: tokens `t`, last refill time `at`). ARGV:
# capacity, tokens a second, now in seconds ('' for Redis's own clock), time-to-live in ms. Returns the
# wait as a string (Redis would truncate a Lua number to an integer). The bucket expires when it would be
# full again: a missing bucket is a full one, so Redis forgets refilled buckets as MAX_BUCKETS does here.
_TAKE = """
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local held = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(held[1]) or capacity
local last = tonumber(held[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - last) * refill)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / refill end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return string.format('%.17g', wait)
"""


class RedisRateLimiter:
    """Buckets in Redis, shared by every replica that names the same `scope`.

    Time is Redis's own clock (TIME, inside the script) unless `clock` is given (tests): replicas'
    clocks may disagree, and a bucket must be refilled by one clock. Redis unreachable: requests are
    allowed (fail open: a rate limit protects the service, and refusing every request while a cache is
    down would be the outage it protects from), with one warning per outage; Redis is tried again after
    DOWN_RETRY_S, so an outage does not add a connection timeout to every request.
    """

    def __init__(
        self,
        client: redis.Redis,
        per_minute: int,
        *,
        scope: str,
        clock: Callable[[], float] | None = None,
        prefix: str = "marquee:",
    ) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0
        self._redis = client
        self._script = client.register_script(_TAKE)
        self._stem = f"{prefix}bucket:{scope}:"
        self._ttl_ms = math.ceil(self.capacity / self.refill * 1000)  # empty to full
        self._clock = clock
        self._down_until: float | None = None  # monotonic time; None while Redis answers

    def take(self, key: str) -> float:
        if self._down_until is not None and time.monotonic() < self._down_until:
            return 0.0
        now = "" if self._clock is None else repr(self._clock())
        try:
            wait = self._script(keys=[self._stem + key], args=[self.capacity, self.refill, now, self._ttl_ms])
        except redis.RedisError as exc:
            if self._down_until is None:
                log.warning("rate limits in Redis unreachable, allowing requests: %s",
                            redact(f"{type(exc).__name__}: {exc}"))  # fmt: skip
            self._down_until = time.monotonic() + DOWN_RETRY_S
            return 0.0
        if self._down_until is not None:
            self._down_until = None
            log.info("rate limits in Redis reachable again")
        return float(wait)


def limiters(settings: Settings) -> tuple[Limiter, Limiter]:
    """(per API key, per client address for what needs no key): this process's buckets, or with
    MARQUEE_REDIS_URL buckets in Redis that every replica shares."""
    api = settings.api
    if settings.redis_url is None:
        return RateLimiter(api.rate_limit_per_minute), RateLimiter(api.anonymous_per_minute)
    # Short timeouts: a limit is checked on every request, and a slow Redis must not make every one slow.
    client = redis.Redis.from_url(
        settings.redis_url.get_secret_value(), socket_timeout=0.25, socket_connect_timeout=0.25
    )
    return (
        RedisRateLimiter(client, api.rate_limit_per_minute, scope="key"),
        RedisRateLimiter(client, api.anonymous_per_minute, scope="address"),
    )


def retry_after(wait: float) -> str:
    """Retry-After takes whole seconds; round up so a client that obeys it is never refused again."""
    return str(max(1, math.ceil(wait)))
