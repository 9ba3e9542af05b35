"""The per-profile page cache: hits until something about the profile changes, then misses."""

from __future__ import annotations

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
