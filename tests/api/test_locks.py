"""Short-lived locks (api/locks.py): the tests taking `make` run against this process's lock and the
Redis one that replicas share, as one congruence suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api import create_app
from api.locks import Lock, LockBusy, LockUnavailable, ProcessLock, RedisLock, catalog_lock
from engine import Engine, Settings, over_state
from tests import redis_server
from tests.postgres import free_port

WAIT_S = 0.2  # how long a second holder waits before LockBusy (an upper bound, not asserted)


@pytest.fixture(params=["process", "redis"])
def make(request: pytest.FixtureRequest) -> Iterator[Callable[[], Lock]]:
    """Makes holders of one lock: in Redis, each with its own connection, as replicas would."""
    if request.param == "process":
        shared = ProcessLock(wait_s=WAIT_S)
        yield lambda: shared
        return
    clients: list[redis.Redis] = []

    def holder() -> Lock:
        clients.append(redis.Redis.from_url(request.getfixturevalue("redis_url")))
        return RedisLock(clients[-1], "marquee:lock:test", wait_s=WAIT_S, poll_s=0.01)

    yield holder
    for client in clients:
        client.close()


def test_one_holder_at_a_time_and_the_next_after_release(make: Callable[[], Lock]) -> None:
    a, b = make(), make()
    with a.hold(), pytest.raises(LockBusy), b.hold():
        pytest.fail("taken twice")
    with b.hold():  # released: free again
        pass


def test_a_failed_block_releases_the_lock(make: Callable[[], Lock]) -> None:
    a, b = make(), make()
    with pytest.raises(ValueError), a.hold():
        raise ValueError("the work failed")
    with b.hold():
        pass


def test_a_holder_past_its_time_to_live_never_releases_the_next_holders_lock(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    a, b = (RedisLock(client, "marquee:lock:test", wait_s=WAIT_S, poll_s=0.01) for _ in range(2))
    first = ExitStack()
    first.enter_context(a.hold())
    client.delete("marquee:lock:test")  # as if a's time-to-live ran out mid-work
    with b.hold():
        held = client.get("marquee:lock:test")
        first.close()  # a finishes late and releases: b's lock must stay
        assert held is not None and client.get("marquee:lock:test") == held
    with a.hold():
        assert 0 < client.pttl("marquee:lock:test") <= 60_000  # it expires, should its holder die
    assert client.get("marquee:lock:test") is None


def test_a_redis_lock_that_cannot_be_reached_refuses_the_work() -> None:
    url = f"redis://:{redis_server.PASSWORD}@127.0.0.1:{free_port()}/0"
    lock = RedisLock(redis.Redis.from_url(url), "marquee:lock:test")
    with pytest.raises(LockUnavailable) as refused, lock.hold():
        pytest.fail("ran unlocked")
    assert redis_server.PASSWORD not in str(refused.value)


def test_the_catalog_lock_is_in_redis_when_configured(redis_url: str) -> None:
    assert isinstance(catalog_lock(Settings()), ProcessLock)
    assert isinstance(catalog_lock(Settings(redis_url=SecretStr(redis_url))), RedisLock)


@pytest.mark.realdata
@pytest.mark.slow
def test_an_operator_write_without_its_lock_is_a_503_and_nothing_is_stored(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis unreachable: the catalog lock refuses (a write must not run unlocked), while rows and the
    rate limits carry on without Redis."""
    url = f"redis://:{redis_server.PASSWORD}@127.0.0.1:{free_port()}/0"
    settings = engine.settings().model_copy(
        update={"state_dir": tmp_path, "redis_url": SecretStr(url), "admin_key": SecretStr("operator-secret")}
    )
    with over_state(engine, settings) as eng, TestClient(create_app(settings, eng)) as client:
        version = eng.title_edits().version()
        added = client.post(
            "/v1/titles", json={"name": "Lanternfish Harbor"}, headers={"X-API-Key": "operator-secret"}
        )
        assert added.status_code == 503 and added.headers["Retry-After"] == "5", added.text
        assert "locked" in added.json()["error"]["message"] and eng.title_edits().version() == version
        headers = {"X-API-Key": client.post("/v1/accounts", json={"name": "home"}).json()["api_key"]}
        profile = client.post("/v1/profiles", json={"name": "Ada"}, headers=headers).json()["id"]
        assert client.get(f"/v1/profiles/{profile}/rows", headers=headers).status_code == 200
    assert redis_server.PASSWORD not in caplog.text
