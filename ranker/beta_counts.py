"""Where the bandits' success and failure counts are kept: a SQLite file, or PostgreSQL shared by replicas.

Counts are only ever added to (`successes = successes + ?`), so any number of processes writing one
store never lose each other's updates; each reads back the sums when it refreshes (ranker/bandits.py).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from sqlalchemy import BigInteger, Column, MetaData, Table, Text, select
from sqlalchemy.dialects.postgresql import insert

from catalog.database import Database
from catalog.sqlite_schema import BUSY_TIMEOUT_S, migrate, use_wal

Cell = tuple[str, str]  # (scope, arm)
Increment = tuple[str, str, int, int]  # (scope, arm, successes, failures)


class BetaCounts(Protocol):
    """Counts per (policy, scope, arm), added to atomically and read back a policy at a time."""

    def add(self, policy: str, increments: Sequence[Increment]) -> None:
        """Add every increment in one transaction: all are counted, or none."""
        ...

    def load(self, policy: str) -> dict[Cell, tuple[int, int]]:
        """Every count of `policy`, including what other processes added."""
        ...

    def close(self) -> None: ...


_UPSERT = """
INSERT INTO beta_counts (policy, scope, arm, successes, failures) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (policy, scope, arm) DO UPDATE SET
    successes = successes + excluded.successes, failures = failures + excluded.failures
"""


class SQLiteBetaCounts:
    """Counts in a SQLite file (WAL mode), or in this process only with ":memory:"."""

    def __init__(self, path: Path | str) -> None:
        # Autocommit mode: each `add` opens its own short transaction.
        self._db = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        use_wal(self._db)
        self._db.execute("PRAGMA synchronous=NORMAL")  # consistent in WAL; a crash may drop the last updates
        migrate(self._db, "bandits")  # the schema: catalog/sqlite_migrations
        self._lock = threading.Lock()

    def add(self, policy: str, increments: Sequence[Increment]) -> None:
        with self._lock, self._db:  # commits, or rolls back on error
            self._db.execute("BEGIN IMMEDIATE")  # take the write lock now, so busy waits apply
            self._db.executemany(_UPSERT, [(policy, *increment) for increment in increments])

    def load(self, policy: str) -> dict[Cell, tuple[int, int]]:
        query = "SELECT scope, arm, successes, failures FROM beta_counts WHERE policy = ?"
        with self._lock:
            rows = self._db.execute(query, (policy,)).fetchall()
        return {(scope, arm): (s, f) for scope, arm, s, f in rows}

    def close(self) -> None:
        with self._lock:
            self._db.close()


_counts = Table(
    "beta_counts",
    MetaData(),
    Column("policy", Text, primary_key=True),
    Column("scope", Text, primary_key=True),
    Column("arm", Text, primary_key=True),
    Column("successes", BigInteger, nullable=False),
    Column("failures", BigInteger, nullable=False),
)  # made by the migrations (catalog/migrations), never from this


class PostgresBetaCounts:
    """Counts in PostgreSQL, over a `Database` that its opener shares and closes."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, policy: str, increments: Sequence[Increment]) -> None:
        if not increments:
            return
        # Summed per cell first: one statement may not touch a row twice with ON CONFLICT DO UPDATE.
        summed: dict[Cell, tuple[int, int]] = {}
        for scope, arm, ds, df in increments:
            s, f = summed.get((scope, arm), (0, 0))
            summed[(scope, arm)] = (s + ds, f + df)
        rows = insert(_counts).values(
            [
                {"policy": policy, "scope": scope, "arm": arm, "successes": s, "failures": f}
                for (scope, arm), (s, f) in summed.items()
            ]
        )
        upsert = rows.on_conflict_do_update(
            index_elements=["policy", "scope", "arm"],
            set_={
                "successes": _counts.c.successes + rows.excluded.successes,
                "failures": _counts.c.failures + rows.excluded.failures,
            },
        )
        with self._db.begin() as db:
            db.execute(upsert)

    def load(self, policy: str) -> dict[Cell, tuple[int, int]]:
        query = select(_counts.c.scope, _counts.c.arm, _counts.c.successes, _counts.c.failures).where(
            _counts.c.policy == policy
        )
        return {(scope, arm): (int(s), int(f)) for scope, arm, s, f in self._db.read(query)}

    def close(self) -> None:
        """Nothing of its own to close: the database belongs to whoever opened it."""
