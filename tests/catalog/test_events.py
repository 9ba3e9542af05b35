"""The event stores: idempotence, atomic batches, profile isolation, cascades. Every test taking `store`
runs against SQLite and PostgreSQL alike (a congruence suite); WAL and read-only opening are SQLite's."""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory

from catalog import (
    CatalogError,
    Event,
    EventConflictError,
    EventKind,
    EventStore,
    Profile,
    Store,
    StoreUnavailableError,
    UnknownAccountError,
    UnknownProfileError,
    new_id,
)
from catalog.pg_events import MIGRATIONS, PostgresStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "sqlite":
        with EventStore(":memory:") as sqlite:
            yield sqlite
        return
    with PostgresStore(request.getfixturevalue("postgres_url")) as postgresql:
        yield postgresql


def make_profile(store: Store, name: str = "Ada") -> Profile:
    return store.create_profile(store.create_account("home").id, name)


def play(profile: Profile, title_id: int = 1, ts: float = 1.0, **kw: object) -> Event:
    return Event(
        event_id=new_id(), profile_id=profile.id, title_id=title_id, kind=EventKind.PLAY, ts=ts, **kw
    )


def test_same_event_id_is_stored_once(store: Store) -> None:
    profile = make_profile(store)
    event = play(profile)
    assert store.append([event] * 100) == [True] + [False] * 99
    assert [store.append([event]) for _ in range(3)] == [[False]] * 3
    assert store.count(profile.id) == store.count() == 1


def test_same_event_id_with_another_payload_is_a_conflict_naming_the_field(store: Store) -> None:
    profile = make_profile(store)
    first = play(profile, title_id=1, ts=5.0, context={"device": "tv"})
    assert store.append([first]) == [True]
    assert store.append([replace(first, ts=9.0)]) == [False]  # a retry stamped anew is the same event
    for changed, field in [
        (replace(first, title_id=2), "title_id"),
        (replace(first, kind=EventKind.COMPLETE), "kind"),
        (replace(first, value=0.5), "value"),
        (replace(first, context={"device": "phone"}), "context"),
        (replace(first, row="top_picks"), "row"),
    ]:
        fresh = play(profile, title_id=3)
        with pytest.raises(EventConflictError) as info:
            store.append([fresh, changed])
        assert (info.value.position, info.value.field, info.value.event_id) == (1, field, first.event_id)
        assert store.count(profile.id) == 1  # the batch is refused whole: `fresh` was not kept
    twice = play(profile, title_id=4)
    with pytest.raises(EventConflictError):
        store.append([twice, replace(twice, title_id=5)])  # within one batch too


def test_event_ids_are_scoped_per_profile(store: Store) -> None:
    first, second = make_profile(store, "a"), make_profile(store, "b")
    shared = "client-1"
    events = [Event(shared, p.id, 7, EventKind.COMPLETE) for p in (first, second)]
    assert store.append(events) == [True, True]


def test_batch_with_unknown_profile_writes_nothing(store: Store) -> None:
    profile = make_profile(store)
    good = [play(profile, title_id=i) for i in range(3)]
    bad = Event(new_id(), "no-such-profile", 9, EventKind.PLAY)
    with pytest.raises(UnknownProfileError) as info:
        store.append([*good, bad])
    assert isinstance(info.value, CatalogError) and "no-such-profile" in str(info.value)
    assert store.count() == 0
    assert store.append(good) == [True, True, True]  # the rollback left the store usable


def test_a_large_batch_is_stored_whole_or_not_at_all(store: Store) -> None:
    profile = make_profile(store)
    batch = [play(profile, title_id=i, ts=float(i)) for i in range(10_000)]
    with pytest.raises(EventConflictError) as info:
        store.append([*batch, replace(batch[0], title_id=1)])  # refused at the end, after every insert
    assert info.value.position == len(batch) and store.count() == 0
    assert store.append([*batch, batch[0]]) == [True] * len(batch) + [False]
    assert store.count(profile.id) == len(batch) and store.events(profile.id)[-1] == batch[-1]


def test_bad_events_fail_when_built() -> None:
    with pytest.raises(ValueError):
        Event(new_id(), "p", 1, "binge")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Event(new_id(), "p", 1, EventKind.PLAY, context={"nested": [1]})  # type: ignore[dict-item]
    assert Event(new_id(), "p", 1, "thumb_up").kind is EventKind.THUMB_UP  # type: ignore[arg-type]


def test_events_round_trip_oldest_first_with_filters(store: Store) -> None:
    profile = make_profile(store)
    late = Event(
        new_id(), profile.id, 5, EventKind.PROGRESS, value=0.5, ts=30.0, context={"device": "tv", "pos": 3},
        row="Trending", variant="b",
    )  # fmt: skip
    early = play(profile, title_id=4, ts=10.0)
    thumbs = Event(new_id(), profile.id, 4, EventKind.THUMB_DOWN, ts=20.0)
    store.append([late, early, thumbs])
    assert store.events(profile.id) == [early, thumbs, late]
    assert store.events(profile.id, kinds=[EventKind.THUMB_DOWN, "progress"]) == [thumbs, late]
    assert store.events(profile.id, since=20.0) == [thumbs, late]
    assert store.events(profile.id)[2].context == {"device": "tv", "pos": 3}


def test_all_events_across_profiles_and_read_only_opening(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with EventStore(path) as store:
        ada, bo = make_profile(store), make_profile(store, "Bo")
        shown = Event(new_id(), bo.id, 3, EventKind.IMPRESSION, ts=2.0, variant="ranker")
        played = play(ada, ts=3.0, variant="candidate_order")
        plain = play(bo, ts=1.0)
        store.append([played, shown, plain])
        assert store.all_events() == [plain, shown, played]
        assert store.all_events(with_variant=True) == [shown, played]
        assert store.all_events(kinds=["impression"]) == [shown]
        with EventStore(path, readonly=True) as reader:  # beside the writer, as a report beside a server
            assert reader.all_events(kinds=[EventKind.PLAY], with_variant=True) == [played]
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                reader.append([play(ada, ts=9.0)])
    with pytest.raises(sqlite3.OperationalError):
        EventStore(tmp_path / "missing.db", readonly=True)


def test_file_store_uses_wal_and_persists(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "events.db"
    with EventStore(path) as store:
        profile = make_profile(store)
        store.append([play(profile)])
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with EventStore(path) as reopened:
        assert reopened.count(profile.id) == 1
        assert reopened.profile(profile.id) == profile


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(UnknownAccountError):
        store.create_profile("no-such-account", "x")


def test_profiles_of_one_account_never_list_another(store: Store) -> None:
    home, office = store.create_account("home"), store.create_account("office")
    ada = store.create_profile(home.id, "Ada", maturity_limit="pg-13")
    bob = store.create_profile(home.id, "Bob", language="fr", region="FR")
    eve = store.create_profile(office.id, "Eve")
    assert store.profiles(home.id) == [ada, bob]
    assert store.profiles(office.id) == [eve]
    assert ada.maturity_limit == "PG-13"
    assert store.profile(bob.id) == Profile(bob.id, home.id, "Bob", None, "fr", "FR")
    assert store.profiles("nobody") == []


def test_update_profile(store: Store) -> None:
    profile = make_profile(store)
    updated = store.update_profile(profile.id, name="Ada L.", maturity_limit="R")
    assert updated == store.profile(profile.id)
    assert (updated.name, updated.maturity_limit, updated.language) == ("Ada L.", "R", "en")
    with pytest.raises(ValueError, match="maturity"):
        store.update_profile(profile.id, maturity_limit="TV-MA")
    with pytest.raises(TypeError, match="colour"):
        store.update_profile(profile.id, colour="red")
    with pytest.raises(UnknownProfileError):
        store.update_profile("nope", name="x")


def test_delete_profile_cascades_to_its_events(store: Store) -> None:
    gone, kept = make_profile(store, "gone"), make_profile(store, "kept")
    store.append([play(gone, title_id=i) for i in range(5)] + [play(kept)])
    store.delete_profile(gone.id)
    assert store.profile(gone.id) is None
    assert store.count(gone.id) == 0 and store.count() == 1
    assert store.events(gone.id) == []
    with pytest.raises(UnknownProfileError):
        store.append([play(gone)])
    with pytest.raises(UnknownProfileError):
        store.delete_profile(gone.id)


def test_accounts_by_key_hash(store: Store) -> None:
    account = store.create_account("home", key_hash="h1")
    other = store.create_account("office")
    assert store.account_by_key_hash("h1") == account
    assert store.account_by_key_hash("h2") is None
    store.set_key_hash(other.id, "h2")
    assert store.account_by_key_hash("h2") == other == store.account(other.id)
    with pytest.raises(UnknownAccountError):
        store.set_key_hash("nobody", "h3")


def test_concurrent_appends_from_threads(store: Store) -> None:
    profile = make_profile(store)

    def worker() -> None:
        for i in range(50):
            store.append([play(profile, title_id=i), play(profile, title_id=i)])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count(profile.id) == 4 * 50 * 2


@pytest.mark.slow
def test_postgresql_stores_opened_at_once_migrate_once_and_share_one_state(postgres_url: str) -> None:
    """Replicas starting together: the advisory lock lets one migrate, the others find the schema made."""
    opened: list[PostgresStore] = []
    failures: list[BaseException] = []

    def open_store() -> None:
        try:
            opened.append(PostgresStore(postgres_url))
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures and len(opened) == 4
    try:
        first, second = opened[0], opened[1]
        account = first.create_account("home", key_hash="h")
        profile = second.create_profile(account.id, "Ada")
        assert second.account_by_key_hash("h") == account and first.profiles(account.id) == [profile]
        event = play(profile)
        assert first.append([event]) == [True] and second.append([event]) == [False]
        assert opened[3].events(profile.id) == [event]
    finally:
        for store in opened:
            store.close()
    with psycopg.connect(postgres_url) as db:
        head = ScriptDirectory(str(MIGRATIONS)).get_current_head()  # one head: the migrations form a chain
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]


def test_an_unreachable_database_is_unavailable_without_its_password() -> None:
    with closing(socket.socket()) as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"postgresql://marquee:hidden-pw@127.0.0.1:{probe.getsockname()[1]}/marquee"
        with pytest.raises(StoreUnavailableError) as info:
            PostgresStore(url)
    assert isinstance(info.value, CatalogError) and "hidden-pw" not in str(info.value)
