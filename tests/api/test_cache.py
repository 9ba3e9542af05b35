"""The per-profile page cache: hits until something about the profile changes, then misses.

The tests taking `store` run against both page stores, this process's ProfileCache and the Redis one that
replicas share (api/redis_pages.py), as one congruence suite."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.cache import PageStore, ProfileCache
from api.redis_pages import RedisPageStore
from tests import redis_server
from tests.postgres import free_port


@pytest.fixture(params=["process", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[PageStore]:
    if request.param == "process":
        yield ProfileCache()
        return
    redis_store = RedisPageStore(request.getfixturevalue("redis_url"))
    yield redis_store
    redis_store.close()


def kept(value: bytes) -> Callable[[], tuple[bytes, bool]]:
    return lambda: (value, True)


def test_entries_expire_and_are_dropped_per_profile() -> None:
    now = [0.0]
    cache = ProfileCache(ttl_seconds=10, max_entries=3, clock=lambda: now[0])
    cache.put("a", ("tv", None), "page-a")
    cache.put("b", ("tv", None), "page-b")
    assert cache.get("a", ("tv", None)) == "page-a"
    assert cache.get("a", ("web", None)) is None  # other request context, other page
    cache.invalidate("a")
    assert cache.get("a", ("tv", None)) is None and cache.get("b", ("tv", None)) == "page-b"
    now[0] = 11.0
    assert cache.get("b", ("tv", None)) is None
    for i in range(5):
        cache.put(str(i), None, i)
    assert cache.get("0", None) is None and cache.get("4", None) == 4  # oldest evicted first


def test_a_page_computed_before_a_write_is_not_kept_after_it() -> None:
    cache = ProfileCache()
    token = cache.generation()
    cache.invalidate("a")  # an event arrives while the page is being built
    assert cache.put("a", None, "stale", generation=token) is False
    assert cache.get("a", None) is None
    assert cache.put("b", None, "fine", generation=token) is True  # other profiles are unaffected
    assert cache.put("a", None, "fresh", generation=cache.generation()) is True
    assert cache.get("a", None) == "fresh"


def test_forgotten_profiles_still_refuse_pages_older_than_their_write() -> None:
    cache = ProfileCache(max_profiles=2)
    token = cache.generation()
    for profile in ("a", "b", "c"):  # "a" falls out of the remembered writes
        cache.invalidate(profile)
    assert cache.put("a", None, "stale", generation=token) is False


def test_get_or_compute_computes_once_for_concurrent_misses_and_never_keeps_failures(
    store: PageStore,
) -> None:
    cache = store
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow() -> tuple[bytes, bool]:
        calls.append(1)
        started.set()
        release.wait(timeout=10)
        return b"page", True

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(cache.get_or_compute, "a", "k", slow)
        assert started.wait(timeout=10)
        others = [pool.submit(cache.get_or_compute, "a", "k", slow) for _ in range(3)]
        time.sleep(0.05)  # most likely they now wait for the first; if not, they find its page cached
        release.set()
        assert first.result() == (b"page", "miss")
        assert {o.result() for o in others} <= {(b"page", "shared"), (b"page", "hit")}
    assert len(calls) == 1
    assert cache.get_or_compute("a", "k", slow) == (b"page", "hit")

    def broken() -> tuple[bytes, bool]:
        raise RuntimeError("engine failed")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("b", "k", broken)
    assert cache.get_or_compute("b", "k", lambda: (b"fallback page", False)) == (b"fallback page", "miss")
    assert cache.get("b", "k") is None  # computed but not worth keeping


def test_a_write_serves_the_old_pages_until_it_ends_then_only_pages_built_after_it(store: PageStore) -> None:
    cache = store
    cache.get_or_compute("a", ("tv", None), kept(b"old tv"))
    cache.get_or_compute("a", ("web", None), kept(b"old web"))
    started, release = threading.Event(), threading.Event()

    def slow() -> tuple[bytes, bool]:
        started.set()
        release.wait(5)
        return b"built before the write", True

    with ThreadPoolExecutor(1) as pool:
        computing = pool.submit(cache.get_or_compute, "a", ("phone", None), slow)
        assert started.wait(5)
        token, keys = cache.begin_write("a")
        assert keys == {("tv", None), ("web", None), ("phone", None)}  # cached, and being computed
        release.set()
        assert computing.result(5) == (b"built before the write", "miss")
    assert cache.get("a", ("phone", None)) is None  # computed before the write: not kept
    assert cache.get("a", ("tv", None)) == b"old tv"  # the write is not acknowledged yet
    cache.end_write("a", {("tv", None): b"new tv"}, token)
    assert cache.get("a", ("tv", None)) == b"new tv" and cache.get("a", ("web", None)) is None


def test_overlapping_writes_end_with_the_pages_of_the_later_one(store: PageStore) -> None:
    cache = store
    cache.get_or_compute("a", None, kept(b"old"))
    first, _ = cache.begin_write("a")
    second, _ = cache.begin_write("a")
    cache.end_write("a", {None: b"after the first write"}, first)
    assert cache.get("a", None) == b"after the first write"  # the first write is acknowledged now
    cache.end_write("a", {None: b"after both"}, second)
    assert cache.get("a", None) == b"after both"
    third, fourth = cache.begin_write("a")[0], cache.begin_write("a")[0]
    cache.end_write("a", {None: b"after all four"}, fourth)
    cache.end_write("a", {None: b"older: built before the fourth write"}, third)
    assert cache.get("a", None) == b"after all four"
    fifth, _ = cache.begin_write("a")
    cache.invalidate("a")  # e.g. a new maturity limit, while the fifth write rebuilds
    cache.end_write("a", {None: b"built under the old limit"}, fifth)
    assert cache.get("a", None) is None


def test_a_page_computed_across_an_invalidation_or_forget_all_is_not_kept(store: PageStore) -> None:
    store.get_or_compute("b", None, kept(b"b's page"))

    def raced(write: Callable[[], None]) -> Callable[[], tuple[bytes, bool]]:
        def compute() -> tuple[bytes, bool]:
            write()  # the write lands while the page is being built
            return b"stale", True

        return compute

    assert store.get_or_compute("a", None, raced(lambda: store.invalidate("a"))) == (b"stale", "miss")
    assert store.get("a", None) is None
    assert store.get("b", None) == b"b's page"  # other profiles are unaffected
    store.get_or_compute("a", None, kept(b"fresh"))
    assert store.get("a", None) == b"fresh"
    store.invalidate("a")
    assert store.get("a", None) is None and store.get("b", None) == b"b's page"

    assert store.get_or_compute("c", None, raced(store.forget_all)) == (b"stale", "miss")
    assert store.get("c", None) is None and store.get("b", None) is None  # every page dropped
    token, keys = store.begin_write("d")
    store.forget_all()  # a catalog change while the write rebuilds: its pages were built before it
    store.end_write("d", {None: b"built before the catalog change"}, token)
    assert store.get("d", None) is None


def test_a_write_ended_on_one_replica_is_what_every_replica_reads_next(redis_url: str) -> None:
    a, b = RedisPageStore(redis_url), RedisPageStore(redis_url)
    try:
        a.get_or_compute("p", ("tv", None), kept(b"old"))
        assert b.get_or_compute("p", ("tv", None), kept(b"b would compute")) == (b"old", "hit")
        token, keys = b.begin_write("p")  # B's write rebuilds the page A cached
        assert keys == {("tv", None)}
        assert a.get("p", ("tv", None)) == b"old"  # not acknowledged yet
        b.end_write("p", {("tv", None): b"after the write"}, token)
        assert a.get("p", ("tv", None)) == b"after the write"
        a.invalidate("p")
        assert b.get("p", ("tv", None)) is None
    finally:
        a.close()
        b.close()


def test_an_unreachable_redis_serves_pages_uncached_and_logs_no_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"redis://:{redis_server.PASSWORD}@127.0.0.1:{free_port()}/0"  # nothing listens there
    store = RedisPageStore(url, timeout_s=0.2)
    assert store.get("a", None) is None
    assert store.get_or_compute("a", None, kept(b"page")) == (b"page", "miss")
    token, keys = store.begin_write("a")
    store.end_write("a", {None: b"rebuilt"}, token)  # the write stands; nothing is stored
    store.invalidate("a")
    store.forget_all()
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1  # once per outage
    assert redis_server.PASSWORD not in caplog.text
