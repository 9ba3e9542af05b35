"""Accounts, profiles and their viewing events in PostgreSQL: the store that replicas share.

The same rules as the SQLite EventStore (catalog/events.py), over SQLAlchemy Core and psycopg 3. The
schema is Alembic's (catalog/migrations), brought to head when its `Database` (catalog/database.py) opens.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    ForeignKey,
    Identity,
    MetaData,
    Select,
    Table,
    Text,
    TextClause,
    delete,
    func,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection, Dialect

from catalog.database import Database
from catalog.errors import UnknownAccountError, UnknownProfileError
from catalog.events import (
    PROFILE_FIELDS,
    Account,
    Event,
    EventKind,
    Profile,
    check_profile_fields,
    check_same,
    checked_batch,
    event_from_row,
    event_row,
    new_id,
    profile_row,
)

# What the queries below see; the tables themselves are made by the migrations, never from this.
_metadata = MetaData()
accounts = Table(
    "accounts",
    _metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created", Double, nullable=False),
    Column("key_hash", Text, unique=True),
)
profiles = Table(
    "profiles",
    _metadata,
    Column("id", Text, primary_key=True),
    Column("account_id", Text, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("maturity_limit", Text),
    Column("language", Text, nullable=False),
    Column("region", Text, nullable=False),
    Column("created", Double, nullable=False),
    Column("seq", BigInteger, Identity(), nullable=False),  # SQLite's rowid: ties in `created` keep order
)
events = Table(
    "events",
    _metadata,
    Column("profile_id", Text, ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", Text, primary_key=True),
    Column("title_id", BigInteger, nullable=False),
    Column("kind", Text, nullable=False),
    Column("value", Double),
    Column("ts", Double, nullable=False),
    Column("context", Text, nullable=False),  # JSON text, as SQLite keeps it: repeats compare equal
    Column("ui_row", Text),
    Column("variant", Text),
    Column("seq", BigInteger, Identity(), nullable=False),
)
# In catalog.events.event_row's order, so rows convert and compare the same way on both backends.
_EVENT_COLUMNS = [
    events.c[name]
    for name in ("event_id", "profile_id", "title_id", "kind", "value", "ts", "context", "ui_row", "variant")
]
_PROFILE_COLUMNS = [profiles.c[name] for name in ("id", "account_id", *PROFILE_FIELDS)]
_ACCOUNT_COLUMNS = [accounts.c.id, accounts.c.name, accounts.c.created]


def _insert_events(dialect: Dialect) -> TextClause:
    """A batch as one array a column, unnested by the server: nine parameters, whatever its size."""
    arrays = ", ".join(f"CAST(:{c.name} AS {c.type.compile(dialect=dialect)}[])" for c in _EVENT_COLUMNS)
    return text(
        f"INSERT INTO events ({', '.join(c.name for c in _EVENT_COLUMNS)}) SELECT * FROM unnest({arrays}) "
        "ON CONFLICT (profile_id, event_id) DO NOTHING RETURNING profile_id, event_id"
    )


class PostgresStore:
    """Each call is its own transaction, so threads and replicas may share it."""

    def __init__(self, database: str | Database) -> None:
        """`database`: a URL, postgresql://user:password@host:port/database (the store then owns its own
        pool), or a `Database` that other stores share (its opener closes it)."""
        self._owns = isinstance(database, str)
        self._db = Database(database) if isinstance(database, str) else database
        self._insert_events = _insert_events(self._db.dialect)

    # --- accounts ---------------------------------------------------------------------------------

    def create_account(self, name: str, *, key_hash: str | None = None) -> Account:
        account = Account(id=new_id(), name=name, created=time.time())
        with self._begin() as db:
            db.execute(
                accounts.insert().values(
                    id=account.id, name=account.name, created=account.created, key_hash=key_hash
                )
            )
        return account

    def account(self, account_id: str) -> Account | None:
        return self._one_account(select(*_ACCOUNT_COLUMNS).where(accounts.c.id == account_id))

    def account_by_key_hash(self, key_hash: str) -> Account | None:
        return self._one_account(select(*_ACCOUNT_COLUMNS).where(accounts.c.key_hash == key_hash))

    def set_key_hash(self, account_id: str, key_hash: str | None) -> None:
        with self._begin() as db:
            done = db.execute(update(accounts).where(accounts.c.id == account_id).values(key_hash=key_hash))
            if done.rowcount == 0:
                raise UnknownAccountError(account_id)

    # --- profiles ---------------------------------------------------------------------------------

    def create_profile(self, account_id: str, name: str, **fields: Any) -> Profile:
        check_profile_fields(fields, PROFILE_FIELDS[1:])
        profile = Profile(id=new_id(), account_id=account_id, name=name, **fields)
        with self._begin() as db:
            # FOR KEY SHARE: the account cannot be deleted between this check and the insert.
            found = select(accounts.c.id).where(accounts.c.id == account_id).with_for_update(key_share=True)
            if db.execute(found).first() is None:
                raise UnknownAccountError(account_id)
            values = dict(zip((c.name for c in _PROFILE_COLUMNS), profile_row(profile), strict=True))
            db.execute(profiles.insert().values(**values, created=time.time()))
        return profile

    def profiles(self, account_id: str) -> list[Profile]:
        """An account's profiles, oldest first."""
        query = (
            select(*_PROFILE_COLUMNS)
            .where(profiles.c.account_id == account_id)
            .order_by(profiles.c.created, profiles.c.seq)
        )
        return [Profile(*row) for row in self._read(query)]

    def profile(self, profile_id: str) -> Profile | None:
        found = self._read(select(*_PROFILE_COLUMNS).where(profiles.c.id == profile_id))
        return Profile(*found[0]) if found else None

    def update_profile(self, profile_id: str, **fields: Any) -> Profile:
        check_profile_fields(fields, PROFILE_FIELDS)
        with self._begin() as db:
            query = select(*_PROFILE_COLUMNS).where(profiles.c.id == profile_id).with_for_update()
            row = db.execute(query).first()
            if row is None:
                raise UnknownProfileError(profile_id)
            changed = replace(Profile(*row), **fields)
            values = dict(zip(PROFILE_FIELDS, profile_row(changed)[2:], strict=True))
            db.execute(update(profiles).where(profiles.c.id == profile_id).values(**values))
        return changed

    def delete_profile(self, profile_id: str) -> None:
        """Delete a profile and, through the foreign key's cascade, all of its events."""
        with self._begin() as db:
            if db.execute(delete(profiles).where(profiles.c.id == profile_id)).rowcount == 0:
                raise UnknownProfileError(profile_id)

    # --- events -----------------------------------------------------------------------------------

    def append(self, batch: Sequence[Event]) -> list[bool]:
        """Store a batch in one transaction; True per newly stored event, False per duplicate id."""
        rows = [event_row(event) for event in checked_batch(batch)]
        if not rows:
            return []
        names = [c.name for c in _EVENT_COLUMNS]
        with self._begin() as db:
            wanted = list(dict.fromkeys(row[1] for row in rows))
            # FOR KEY SHARE holds the profiles until commit: a concurrent delete waits for this batch.
            found = select(profiles.c.id).where(profiles.c.id.in_(wanted)).with_for_update(key_share=True)
            present = set(db.execute(found).scalars())
            for profile_id in wanted:
                if profile_id not in present:
                    raise UnknownProfileError(profile_id)  # rolls back the whole batch
            # One statement, one array a column: a key stored before, or earlier in this batch, is skipped.
            columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
            new = {(p, e) for p, e in db.execute(self._insert_events, columns)}
            stored, seen = [], set()
            for row in rows:
                key = (row[1], row[0])
                stored.append(key in new and key not in seen)
                seen.add(key)
            repeats = [rows[i] for i, fresh in enumerate(stored) if not fresh]
            if repeats:
                keys = list({(row[1], row[0]) for row in repeats})
                query = select(*_EVENT_COLUMNS).where(
                    tuple_(events.c.profile_id, events.c.event_id).in_(keys)
                )
                held = {(row[1], row[0]): tuple(row) for row in db.execute(query)}
                for position, row in enumerate(rows):
                    if not stored[position]:
                        check_same(position, held[(row[1], row[0])], row)  # raising rolls back the batch
        return stored

    def events(
        self, profile_id: str, *, kinds: Iterable[EventKind | str] | None = None, since: float | None = None
    ) -> list[Event]:
        """A profile's events, oldest first; `since` keeps events with ts >= since."""
        query = select(*_EVENT_COLUMNS).where(events.c.profile_id == profile_id)
        if since is not None:
            query = query.where(events.c.ts >= float(since))
        return self._select(query, kinds)

    def all_events(
        self, *, kinds: Iterable[EventKind | str] | None = None, with_variant: bool = False
    ) -> list[Event]:
        """Every profile's events, oldest first; `with_variant` keeps those sent under an experiment arm."""
        query = select(*_EVENT_COLUMNS)
        if with_variant:
            query = query.where(events.c.variant.is_not(None))
        return self._select(query, kinds)

    def count(self, profile_id: str | None = None) -> int:
        query = select(func.count()).select_from(events)
        if profile_id is not None:
            query = query.where(events.c.profile_id == profile_id)
        return int(self._read(query)[0][0])

    def close(self) -> None:
        if self._owns:
            self._db.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals --------------------------------------------------------------------------------

    def _begin(self) -> AbstractContextManager[Connection]:
        """A transaction; an unreachable database raises StoreUnavailableError (the API's 503)."""
        return self._db.begin()

    def _read(self, query: Select[Any]) -> list[tuple[Any, ...]]:
        return self._db.read(query)

    def _select(self, query: Select[Any], kinds: Iterable[EventKind | str] | None) -> list[Event]:
        if kinds is not None:
            query = query.where(events.c.kind.in_([EventKind(k).value for k in kinds]))
        return [event_from_row(tuple(row)) for row in self._read(query.order_by(events.c.ts, events.c.seq))]

    def _one_account(self, query: Select[Any]) -> Account | None:
        found = self._read(query)
        return Account(*found[0]) if found else None
