"""The per-profile page cache: hits until something about the profile changes, then misses."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.cache import ProfileCache


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


def test_get_or_compute_computes_once_for_concurrent_misses_and_never_keeps_failures() -> None:
    cache = ProfileCache()
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow() -> tuple[str, bool]:
        calls.append(1)
        started.set()
        release.wait(timeout=10)
        return "page", True

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(cache.get_or_compute, "a", "k", slow)
        assert started.wait(timeout=10)
        others = [pool.submit(cache.get_or_compute, "a", "k", slow) for _ in range(3)]
        time.sleep(0.05)  # most likely they now wait for the first; if not, they find its page cached
        release.set()
        assert first.result() == ("page", "miss")
        assert {o.result() for o in others} <= {("page", "shared"), ("page", "hit")}
    assert len(calls) == 1
    assert cache.get_or_compute("a", "k", slow) == ("page", "hit")

    def broken() -> tuple[str, bool]:
        raise RuntimeError("engine failed")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("b", "k", broken)
    assert cache.get_or_compute("b", "k", lambda: ("fallback page", False)) == ("fallback page", "miss")
    assert cache.get("b", "k") is None  # computed but not worth keeping


def test_a_write_serves_the_old_pages_until_it_ends_then_only_pages_built_after_it() -> None:
    cache = ProfileCache()
    cache.put("a", ("tv", None), "old tv")
    cache.put("a", ("web", None), "old web")
    before = cache.generation()
    started, release = threading.Event(), threading.Event()

    def slow() -> tuple[str, bool]:
        started.set()
        release.wait(5)
        return "built before the write", True

    with ThreadPoolExecutor(1) as pool:
        computing = pool.submit(cache.get_or_compute, "a", ("phone", None), slow)
        assert started.wait(5)
        token, keys = cache.begin_write("a")
        assert keys == {("tv", None), ("web", None), ("phone", None)}  # cached, and being computed
        release.set()
        assert computing.result(5) == ("built before the write", "miss")
    assert cache.get("a", ("phone", None)) is None  # computed before the write: not kept
    assert cache.get("a", ("tv", None)) == "old tv"  # the write is not acknowledged yet
    assert cache.put("a", ("tv", None), "stale", generation=before) is False
    cache.end_write("a", {("tv", None): "new tv"}, token)
    assert cache.get("a", ("tv", None)) == "new tv" and cache.get("a", ("web", None)) is None


def test_overlapping_writes_end_with_the_pages_of_the_later_one() -> None:
    cache = ProfileCache()
    cache.put("a", None, "old")
    first, _ = cache.begin_write("a")
    second, _ = cache.begin_write("a")
    cache.end_write("a", {None: "after the first write"}, first)
    assert cache.get("a", None) == "after the first write"  # the first write is acknowledged now
    cache.end_write("a", {None: "after both"}, second)
    assert cache.get("a", None) == "after both"
    third, fourth = cache.begin_write("a")[0], cache.begin_write("a")[0]
    cache.end_write("a", {None: "after all four"}, fourth)
    cache.end_write("a", {None: "older: built before the fourth write"}, third)
    assert cache.get("a", None) == "after all four"
    fifth, _ = cache.begin_write("a")
    cache.invalidate("a")  # e.g. a new maturity limit, while the fifth write rebuilds
    cache.end_write("a", {None: "built under the old limit"}, fifth)
    assert cache.get("a", None) is None
