"""The SQLite state files' schemas, by Alembic (catalog/sqlite_migrations), one branch per kind of file.

A store brings its file to its branch's head as it opens it, on its own connection. A file made before
there were migrations holds exactly the baseline's tables, which the baseline creates only if missing:
upgrading adopts such a file in place, its rows untouched, and records the revision.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from functools import cache
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

SQLITE_MIGRATIONS = Path(__file__).parent / "sqlite_migrations"
# How long a connection waits on another's lock. Opening a new file takes the write lock for its migration
# and switches it to WAL; under load that took longer than sqlite3's default 5 s, and a replica starting
# beside another failed with "database is locked".
BUSY_TIMEOUT_S = 30.0
_ONE_AT_A_TIME = threading.Lock()  # Alembic's `op` and `context` are module globals: one run per process
Branch = Literal["events", "bandits", "conversations", "pages"]


def use_wal(db: sqlite3.Connection) -> None:
    """Switch the file to WAL (readers never block the writer). The switch answers "database is locked"
    at once, without waiting, while another connection holds a lock (a replica starting beside another,
    migrating the same new file): it is retried for up to BUSY_TIMEOUT_S."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")  # ":memory:" answers "memory", which is fine
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def migrate(db: sqlite3.Connection, branch: Branch) -> None:
    """Bring the file behind `db` to the newest revision of `branch`, in one transaction: a process
    opening the file meanwhile waits on SQLite's write lock, then finds the work done."""
    head = _head(branch)
    if head in revisions(db):
        return  # the common case, a file opened before: no Alembic machinery runs
    with _ONE_AT_A_TIME:
        db.execute("BEGIN IMMEDIATE")
        try:
            if head not in revisions(db):
                _upgrade(db, branch)
        except BaseException:
            db.rollback()
            raise
        db.commit()


def _upgrade(db: sqlite3.Connection, branch: Branch) -> None:
    config = Config()
    config.set_main_option("script_location", str(SQLITE_MIGRATIONS))
    # On this connection (":memory:" has no other), lent so that SQLAlchemy neither closes it nor ends
    # the transaction `migrate` holds.
    engine = create_engine("sqlite://", creator=lambda: _Lent(db), poolclass=StaticPool)
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, f"{branch}@head")
    finally:
        engine.dispose()


def revisions(db: sqlite3.Connection) -> set[str]:
    """The revisions recorded in the file (one per branch it holds); none before its first migration."""
    try:
        return {str(row[0]) for row in db.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.OperationalError:  # no version table yet
        return set()


@cache
def _head(branch: Branch) -> str:
    found = ScriptDirectory(str(SQLITE_MIGRATIONS)).get_revision(f"{branch}@head")
    if found is None:
        raise LookupError(f"no SQLite migrations for {branch}; valid: events, bandits, conversations, pages")
    return found.revision


class _Lent:
    """A connection as SQLAlchemy sees it, except that its transaction and its closing stay its owner's."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    def commit(self) -> None:
        """`migrate` commits."""

    def rollback(self) -> None:
        """`migrate` rolls back."""

    def close(self) -> None:
        """The store that lent it closes it."""
