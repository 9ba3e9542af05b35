"""Who owns a key and a profile (api/owners.py): kept for a bounded time on shared stores, never on the
embedded one; only found owners are kept; a profile's own reads are always fresh."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from api.owners import Owners, ProfileRef
from catalog.events import EventStore

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def owners(store: EventStore, key_cache_s: float | None, clock: Clock, limit: int = 100) -> Owners:
    return Owners(lambda: store, key_cache_s, limit=limit, clock=clock)


def test_a_revoked_key_works_until_the_kept_answer_expires_then_never(tmp_path: Any) -> None:
    store, clock = EventStore(tmp_path / "e.sqlite"), Clock()
    account = store.create_account("home", key_hash="h1")
    shared = owners(store, 5.0, clock)
    assert run(shared.key_owner("h1")) == account.id
    store.set_key_hash(account.id, None)  # revoked elsewhere: in the database, or by another replica
    clock.now += 4.9
    assert run(shared.key_owner("h1")) == account.id  # within the bound
    clock.now += 0.2
    assert run(shared.key_owner("h1")) is None  # past it: read again, and refused
    clock.now += 100.0
    assert run(shared.key_owner("h1")) is None


def test_the_embedded_store_and_a_zero_bound_keep_nothing(tmp_path: Any) -> None:
    store, clock = EventStore(tmp_path / "e.sqlite"), Clock()
    account = store.create_account("home", key_hash="h1")
    for key_cache_s in (None, 0.0):
        store.set_key_hash(account.id, "h1")
        checks = owners(store, key_cache_s, clock)
        assert run(checks.key_owner("h1")) == account.id
        store.set_key_hash(account.id, None)
        assert run(checks.key_owner("h1")) is None  # at once, no clock moved


def test_unknown_keys_and_profiles_are_not_kept(tmp_path: Any) -> None:
    """A key or profile made on another replica works here at once, though this one was asked first."""
    store, clock = EventStore(tmp_path / "e.sqlite"), Clock()
    shared = owners(store, 5.0, clock)
    assert run(shared.key_owner("h1")) is None
    account = store.create_account("home", key_hash="h1")
    assert run(shared.key_owner("h1")) == account.id
    assert run(shared.profile_ref("nope")) is None
    profile = store.create_profile(account.id, "Ada")
    assert run(shared.profile_ref(profile.id)) == ProfileRef(profile.id, account.id)


def test_a_profile_is_read_fresh_its_owner_kept_and_forgotten_on_a_local_delete(tmp_path: Any) -> None:
    store, clock = EventStore(tmp_path / "e.sqlite"), Clock()
    account = store.create_account("home", key_hash="h1")
    profile = store.create_profile(account.id, "Ada")
    shared = owners(store, 5.0, clock)
    assert run(shared.profile_ref(profile.id)) == ProfileRef(profile.id, account.id)
    store.update_profile(profile.id, name="Bea")
    fresh = run(shared.profile(profile.id))
    assert fresh is not None and fresh.name == "Bea"  # the profile itself is never a kept copy
    store.delete_profile(profile.id)
    assert run(shared.profile(profile.id)) is None
    assert run(shared.profile_ref(profile.id)) == ProfileRef(profile.id, account.id)  # owner kept
    shared.forget_profile(profile.id)  # what this replica's delete route does
    assert run(shared.profile_ref(profile.id)) is None


def test_the_oldest_answers_go_first_past_the_limit(tmp_path: Any) -> None:
    store, clock = EventStore(tmp_path / "e.sqlite"), Clock()
    ids = [store.create_account(f"a{i}", key_hash=f"h{i}").id for i in range(3)]
    shared = owners(store, 5.0, clock, limit=2)
    for i in range(3):
        assert run(shared.key_owner(f"h{i}")) == ids[i]
    for i in range(3):
        store.set_key_hash(ids[i], None)
    # h0 was pushed out by h2 and is read again (revoked); h1 and h2 are still kept.
    assert [run(shared.key_owner(f"h{i}")) for i in range(3)] == [None, ids[1], ids[2]]
