"""Accounts, profiles and their viewing events in one embedded SQLite file (WAL mode)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from catalog.errors import EventConflictError, UnknownAccountError, UnknownProfileError
from catalog.metadata import MATURITY_RATINGS, normalize_maturity
from catalog.sqlite_schema import BUSY_TIMEOUT_S, migrate, use_wal

ContextValue = str | int | float
PROFILE_FIELDS = ("name", "maturity_limit", "language", "region")


def new_id() -> str:
    """A fresh random id (uuid4 hex) for accounts, profiles and client events."""
    return uuid.uuid4().hex


class EventKind(StrEnum):
    PLAY = "play"
    PROGRESS = "progress"
    COMPLETE = "complete"
    THUMB_UP = "thumb_up"
    THUMB_DOWN = "thumb_down"
    SKIP = "skip"
    IMPRESSION = "impression"
    SEARCH = "search"
    ADD_TO_LIST = "add_to_list"
    REMOVE_FROM_LIST = "remove_from_list"


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    created: float


@dataclass(frozen=True)
class Profile:
    id: str
    account_id: str
    name: str
    maturity_limit: str | None = None
    language: str = "en"
    region: str = "US"

    def __post_init__(self) -> None:
        if self.maturity_limit is not None:
            limit = normalize_maturity(self.maturity_limit)
            if limit is None:
                raise ValueError(
                    f"unknown maturity limit {self.maturity_limit!r}; valid: {', '.join(MATURITY_RATINGS)}"
                )
            object.__setattr__(self, "maturity_limit", limit)


@dataclass(frozen=True)
class Event:
    """One thing a profile did with a title; `event_id` is the client's id, unique per profile."""

    event_id: str
    profile_id: str
    title_id: int
    kind: EventKind
    value: float | None = None  # progress fraction, watch seconds, ...
    ts: float = 0.0  # unix seconds
    context: Mapping[str, ContextValue] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    row: str | None = None  # the UI row the title was shown in
    variant: str | None = None  # experiment arm

    def __post_init__(self) -> None:
        # Normalize here so a bad event fails when it is built, before any batch is written.
        object.__setattr__(self, "kind", EventKind(self.kind))
        object.__setattr__(self, "title_id", int(self.title_id))
        object.__setattr__(self, "ts", float(self.ts))
        if self.value is not None:
            object.__setattr__(self, "value", float(self.value))
        context = dict(self.context)
        for key, item in context.items():
            if not isinstance(key, str) or not isinstance(item, str | int | float):
                raise TypeError(f"event context must map str to str/int/float, got {key!r}: {item!r}")
        object.__setattr__(self, "context", MappingProxyType(context))


class Accounts(Protocol):
    """Accounts, their API key hashes and their profiles: what the API's account routes use."""

    def create_account(self, name: str, *, key_hash: str | None = None) -> Account: ...

    def account(self, account_id: str) -> Account | None: ...

    def account_by_key_hash(self, key_hash: str) -> Account | None: ...

    def set_key_hash(self, account_id: str, key_hash: str | None) -> None: ...

    def create_profile(self, account_id: str, name: str, **fields: Any) -> Profile: ...

    def profiles(self, account_id: str) -> list[Profile]: ...

    def profile(self, profile_id: str) -> Profile | None: ...

    def update_profile(self, profile_id: str, **fields: Any) -> Profile: ...

    def delete_profile(self, profile_id: str) -> None: ...


class Store(Accounts, Protocol):
    """Accounts, profiles and their events: EventStore (SQLite, one process) or PostgresStore
    (catalog/pg_events.py, shared by replicas). Both keep the same rules: a batch is stored whole or not at
    all, a repeated event id per profile is stored once, and a repeat with other fields is refused naming
    the field (tests/catalog/test_events.py runs one suite against both)."""

    def append(self, events: Sequence[Event]) -> list[bool]: ...

    def events(
        self, profile_id: str, *, kinds: Iterable[EventKind | str] | None = None, since: float | None = None
    ) -> list[Event]: ...

    def all_events(
        self, *, kinds: Iterable[EventKind | str] | None = None, with_variant: bool = False
    ) -> list[Event]: ...

    def count(self, profile_id: str | None = None) -> int: ...

    def close(self) -> None: ...


_EVENT_COLUMNS = "event_id, profile_id, title_id, kind, value, ts, context, ui_row, variant"
_PROFILE_COLUMNS = "id, account_id, name, maturity_limit, language, region"


class EventStore:
    """One SQLite connection shared behind a lock: safe for a threaded web app, one process."""

    def __init__(self, path: Path | str, *, readonly: bool = False) -> None:
        """`readonly` opens an existing file for reading only (a report beside a running server)."""
        self._lock = threading.RLock()
        if readonly:
            uri = f"{Path(path).resolve().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
            return
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: every write below opens its own explicit transaction.
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S
        )
        with self._lock:
            use_wal(self._db)
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
            migrate(self._db, "events")  # the schema: catalog/sqlite_migrations

    # --- accounts ---------------------------------------------------------------------------------

    def create_account(self, name: str, *, key_hash: str | None = None) -> Account:
        account = Account(id=new_id(), name=name, created=time.time())
        with self._transaction() as db:
            db.execute(
                "INSERT INTO accounts (id, name, created, key_hash) VALUES (?, ?, ?, ?)",
                (account.id, account.name, account.created, key_hash),
            )
        return account

    def account(self, account_id: str) -> Account | None:
        return self._one_account("SELECT id, name, created FROM accounts WHERE id = ?", account_id)

    def account_by_key_hash(self, key_hash: str) -> Account | None:
        return self._one_account("SELECT id, name, created FROM accounts WHERE key_hash = ?", key_hash)

    def set_key_hash(self, account_id: str, key_hash: str | None) -> None:
        with self._transaction() as db:
            cursor = db.execute("UPDATE accounts SET key_hash = ? WHERE id = ?", (key_hash, account_id))
            if cursor.rowcount == 0:
                raise UnknownAccountError(account_id)

    # --- profiles ---------------------------------------------------------------------------------

    def create_profile(self, account_id: str, name: str, **fields: Any) -> Profile:
        check_profile_fields(fields, PROFILE_FIELDS[1:])
        profile = Profile(id=new_id(), account_id=account_id, name=name, **fields)
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone() is None:
                raise UnknownAccountError(account_id)
            db.execute(
                f"INSERT INTO profiles ({_PROFILE_COLUMNS}, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*profile_row(profile), time.time()),
            )
        return profile

    def profiles(self, account_id: str) -> list[Profile]:
        """An account's profiles, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_PROFILE_COLUMNS} FROM profiles WHERE account_id = ? ORDER BY created, rowid",
                (account_id,),
            ).fetchall()
        return [Profile(*row) for row in rows]

    def profile(self, profile_id: str) -> Profile | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_PROFILE_COLUMNS} FROM profiles WHERE id = ?", (profile_id,)
            ).fetchone()
        return Profile(*row) if row else None

    def update_profile(self, profile_id: str, **fields: Any) -> Profile:
        check_profile_fields(fields, PROFILE_FIELDS)
        with self._transaction() as db:
            row = db.execute(
                f"SELECT {_PROFILE_COLUMNS} FROM profiles WHERE id = ?", (profile_id,)
            ).fetchone()
            if row is None:
                raise UnknownProfileError(profile_id)
            profile = replace(Profile(*row), **fields)
            db.execute(
                "UPDATE profiles SET name = ?, maturity_limit = ?, language = ?, region = ? WHERE id = ?",
                (*profile_row(profile)[2:], profile_id),
            )
        return profile

    def delete_profile(self, profile_id: str) -> None:
        """Delete a profile and, through the foreign key's cascade, all of its events."""
        with self._transaction() as db:
            if db.execute("DELETE FROM profiles WHERE id = ?", (profile_id,)).rowcount == 0:
                raise UnknownProfileError(profile_id)

    # --- events -----------------------------------------------------------------------------------

    def append(self, events: Sequence[Event]) -> list[bool]:
        """Store a batch in one transaction; True per newly stored event, False per duplicate id."""
        batch = checked_batch(events)
        stored = []
        with self._transaction() as db:
            for profile_id in dict.fromkeys(e.profile_id for e in batch):
                if db.execute("SELECT 1 FROM profiles WHERE id = ?", (profile_id,)).fetchone() is None:
                    raise UnknownProfileError(profile_id)  # rolls back the whole batch
            for position, event in enumerate(batch):
                row = event_row(event)
                cursor = db.execute(
                    f"INSERT OR IGNORE INTO events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row
                )
                stored.append(cursor.rowcount == 1)
                if not stored[-1]:
                    same = db.execute(
                        f"SELECT {_EVENT_COLUMNS} FROM events WHERE profile_id = ? AND event_id = ?",
                        (row[1], row[0]),
                    ).fetchone()
                    check_same(position, same, row)  # raising rolls back the whole batch
        return stored

    def events(
        self, profile_id: str, *, kinds: Iterable[EventKind | str] | None = None, since: float | None = None
    ) -> list[Event]:
        """A profile's events, oldest first; `since` keeps events with ts >= since."""
        where = ["profile_id = ?"]
        params: list[Any] = [profile_id]
        if since is not None:
            where.append("ts >= ?")
            params.append(float(since))
        return self._select(where, params, kinds)

    def all_events(
        self, *, kinds: Iterable[EventKind | str] | None = None, with_variant: bool = False
    ) -> list[Event]:
        """Every profile's events, oldest first; `with_variant` keeps those sent under an experiment arm."""
        return self._select(["variant IS NOT NULL"] if with_variant else [], [], kinds)

    def count(self, profile_id: str | None = None) -> int:
        with self._lock:
            if profile_id is None:
                return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
            row = self._db.execute(
                "SELECT COUNT(*) FROM events WHERE profile_id = ?", (profile_id,)
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals --------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so checks and writes see the same state.
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _select(
        self, where: list[str], params: list[Any], kinds: Iterable[EventKind | str] | None
    ) -> list[Event]:
        if kinds is not None:
            wanted = [EventKind(k).value for k in kinds]
            where = [*where, f"kind IN ({', '.join('?' * len(wanted))})"]
            params = [*params, *wanted]
        query = f"SELECT {_EVENT_COLUMNS} FROM events"
        if where:
            query += " WHERE " + " AND ".join(where)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY ts, rowid", params).fetchall()
        return [event_from_row(row) for row in rows]

    def _one_account(self, query: str, value: str) -> Account | None:
        with self._lock:
            row = self._db.execute(query, (value,)).fetchone()
        return Account(*row) if row else None


def checked_batch(events: Sequence[Event]) -> list[Event]:
    batch = list(events)
    for event in batch:
        if not isinstance(event, Event):
            raise TypeError(f"expected Event, got {type(event).__name__}")
    return batch


def check_profile_fields(fields: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise TypeError(f"unknown profile field(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")


def profile_row(p: Profile) -> tuple[Any, ...]:
    return (p.id, p.account_id, p.name, p.maturity_limit, p.language, p.region)


def event_row(e: Event) -> tuple[Any, ...]:
    context = json.dumps(dict(e.context), sort_keys=True)
    return (e.event_id, e.profile_id, e.title_id, e.kind.value, e.value, e.ts, context, e.row, e.variant)


# What a repeat of an event must match. The time is left out (a client that lets the server stamp it gets a
# new one on every retry), and so is the experiment arm (the server's own note).
_SAME = {"title_id": 2, "kind": 3, "value": 4, "context": 6, "row": 7}


def check_same(position: int, stored: Sequence[Any], row: tuple[Any, ...]) -> None:
    """Raise EventConflictError when `stored` (an event's columns as `event_row` orders them) differs
    from the `row` sent again with its id at `position` of a batch."""
    for name, at in _SAME.items():
        if stored[at] != row[at]:
            raise EventConflictError(position, row[0], name)


def event_from_row(row: tuple[Any, ...]) -> Event:
    event_id, profile_id, title_id, kind, value, ts, context, ui_row, variant = row
    return Event(
        event_id, profile_id, title_id, EventKind(kind), value, ts, json.loads(context), ui_row, variant
    )
