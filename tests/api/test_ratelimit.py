"""Rate-limit buckets: the tests taking `limiter` run against both implementations, this process's
buckets and the Redis ones that replicas share (api/ratelimit.py), as one congruence suite, on a clock
the test moves (never on timed sleeps)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
import redis
from pydantic import SecretStr

from api.ratelimit import Limiter, RateLimiter, RedisRateLimiter, limiters, retry_after
from engine import Settings
from tests import redis_server
from tests.postgres import free_port

PER_MINUTE = 6  # a token every 10 s


class Clock:
    def __init__(self) -> None:
        self.now = 1_765_000_000.25  # an epoch-sized time: Redis keeps it to the microsecond

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make(request: pytest.FixtureRequest, clock: Clock) -> Iterator[Callable[[int], Limiter]]:
    """Makes limiters of one implementation on the test's clock; two Redis ones share buckets."""
    if request.param == "process":
        yield lambda per_minute: RateLimiter(per_minute, clock=clock)
        return
    clients: list[redis.Redis] = []

    def redis_limiter(per_minute: int) -> Limiter:
        clients.append(redis.Redis.from_url(request.getfixturevalue("redis_url")))  # a replica's own
        return RedisRateLimiter(clients[-1], per_minute, scope="key", clock=clock)

    yield redis_limiter
    for client in clients:
        client.close()


both = pytest.mark.parametrize("make", ["process", "redis"], indirect=True)


@both
def test_a_burst_of_capacity_then_a_wait_for_the_next_token(make: Callable[[int], Limiter]) -> None:
    limiter = make(PER_MINUTE)
    assert [limiter.take("k") for _ in range(PER_MINUTE)] == [0.0] * PER_MINUTE
    assert limiter.take("k") == pytest.approx(10.0)
    assert limiter.take("other") == 0.0  # keys have buckets of their own


@both
def test_tokens_refill_with_time_up_to_the_capacity(make: Callable[[int], Limiter], clock: Clock) -> None:
    limiter = make(PER_MINUTE)
    for _ in range(PER_MINUTE):
        limiter.take("k")
    clock.now += 4.0  # 0.4 of a token
    assert limiter.take("k") == pytest.approx(6.0)
    clock.now += 6.0  # one whole token
    assert limiter.take("k") == 0.0
    assert limiter.take("k") == pytest.approx(10.0)
    clock.now += 3600.0  # an idle hour fills the bucket, never past its capacity
    assert [limiter.take("k") for _ in range(PER_MINUTE)] == [0.0] * PER_MINUTE
    assert limiter.take("k") > 0


@both
def test_refused_requests_spend_nothing(make: Callable[[int], Limiter], clock: Clock) -> None:
    limiter = make(PER_MINUTE)
    for _ in range(PER_MINUTE):
        limiter.take("k")
    for _ in range(5):  # a client that retries at once is not pushed further back
        assert limiter.take("k") == pytest.approx(10.0)
    clock.now += 10.0
    assert limiter.take("k") == 0.0


def test_two_replicas_spend_from_one_bucket_in_redis(redis_url: str, clock: Clock) -> None:
    a, b = (
        RedisRateLimiter(redis.Redis.from_url(redis_url), PER_MINUTE, scope="key", clock=clock)
        for _ in range(2)
    )
    allowed = [limiter.take("k") == 0.0 for _ in range(PER_MINUTE) for limiter in (a, b)]
    assert allowed.count(True) == PER_MINUTE  # in total, not per replica
    assert a.take("k") > 0 and b.take("k") > 0
    clock.now += 10.0
    assert b.take("k") == 0.0 and a.take("k") == pytest.approx(10.0)


def test_redis_buckets_run_on_redis_time_and_expire_when_full(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    limiter = RedisRateLimiter(client, PER_MINUTE, scope="address")  # no clock: Redis's TIME
    for _ in range(PER_MINUTE):
        assert limiter.take("10.0.0.1") == 0.0
    wait = limiter.take("10.0.0.1")
    assert 0 < wait <= 10.0
    ttl = client.pttl("marquee:bucket:address:10.0.0.1")
    assert 0 < ttl <= 60_000  # gone once it would be full anyway: idle keys do not pile up


def test_the_configured_limiters_are_shared_through_redis(redis_url: str) -> None:
    settings = Settings(redis_url=SecretStr(redis_url), api={"anonymous_per_minute": 2})
    assert all(isinstance(limiter, RateLimiter) for limiter in limiters(Settings()))  # the default
    (key_a, address_a), (_, address_b) = limiters(settings), limiters(settings)  # two replicas
    assert isinstance(address_a, RedisRateLimiter)
    assert address_a.take("10.0.0.2") == 0.0 and address_b.take("10.0.0.2") == 0.0
    assert address_a.take("10.0.0.2") > 0 and address_b.take("10.0.0.2") > 0
    assert key_a.take("10.0.0.2") == 0.0  # the per-key limit is another bucket


def test_an_unreachable_redis_allows_requests_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    url = f"redis://:{redis_server.PASSWORD}@127.0.0.1:{free_port()}/0"
    limiter = RedisRateLimiter(redis.Redis.from_url(url), 1, scope="key")
    assert [limiter.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]  # capacity 1: fails open
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    assert redis_server.PASSWORD not in caplog.text


def test_retry_after_rounds_up_to_whole_seconds() -> None:
    assert [retry_after(w) for w in (0.01, 1.0, 1.2, 9.99)] == ["1", "1", "2", "10"]
