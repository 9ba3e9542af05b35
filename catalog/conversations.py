"""Where conversations are kept: a SQLite file beside the process, or PostgreSQL shared by replicas.

A conversation is stored as its dialogue state's JSON under (profile, id): an id names a conversation
within one profile only. What the state holds is the assistant's business (assistant/state.py); these
stores keep the text whole, so a conversation saved by one replica continues on any other.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol

from sqlalchemy import Column, Double, MetaData, Table, Text, select
from sqlalchemy.dialects.postgresql import insert

from catalog.database import Database
from catalog.sqlite_schema import BUSY_TIMEOUT_S, migrate, use_wal


class Conversations(Protocol):
    """Dialogue states as JSON text, by (profile, conversation id)."""

    def get(self, profile_id: str, conversation_id: str) -> str | None: ...

    def save(self, profile_id: str, conversation_id: str, state: str) -> None:
        """Store or replace the conversation's state."""
        ...

    def close(self) -> None: ...


class SQLiteConversations:
    """Conversations in one SQLite file (WAL mode)."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S
        )
        use_wal(self._db)
        migrate(self._db, "conversations")  # the schema: catalog/sqlite_migrations
        self._lock = threading.Lock()

    def get(self, profile_id: str, conversation_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM profile_conversations WHERE profile_id = ? AND id = ?",
                (profile_id, conversation_id),
            ).fetchone()
        return str(row[0]) if row else None

    def save(self, profile_id: str, conversation_id: str, state: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO profile_conversations (profile_id, id, state, updated) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(profile_id, id)"
                " DO UPDATE SET state = excluded.state, updated = excluded.updated",
                (profile_id, conversation_id, state, time.time()),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()


_conversations = Table(
    "profile_conversations",
    MetaData(),
    Column("profile_id", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    Column("state", Text, nullable=False),
    Column("updated", Double, nullable=False),
)  # made by the migrations (catalog/migrations), never from this


class PostgresConversations:
    """Conversations in PostgreSQL, over a `Database` that its opener shares and closes."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def get(self, profile_id: str, conversation_id: str) -> str | None:
        query = select(_conversations.c.state).where(
            _conversations.c.profile_id == profile_id, _conversations.c.id == conversation_id
        )
        found = self._db.read(query)
        return str(found[0][0]) if found else None

    def save(self, profile_id: str, conversation_id: str, state: str) -> None:
        row = insert(_conversations).values(
            profile_id=profile_id, id=conversation_id, state=state, updated=time.time()
        )
        upsert = row.on_conflict_do_update(
            index_elements=["profile_id", "id"],
            set_={"state": row.excluded.state, "updated": row.excluded.updated},
        )
        with self._db.begin() as db:
            db.execute(upsert)

    def close(self) -> None:
        """Nothing of its own to close: the database belongs to whoever opened it."""
