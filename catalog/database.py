"""One PostgreSQL database shared by replicas: a connection pool with its schema at Alembic's head.

Every PostgreSQL store (events and accounts in catalog/pg_events.py, conversations, bandit counts, the
experiment page log) runs its statements through a `Database`; one per process is enough, and the
composition root shares it among them. An unreachable database raises StoreUnavailableError (the API's
503 with Retry-After) rather than the driver's error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, Dialect, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.sql import Executable

from catalog.errors import StoreUnavailableError

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x6D617271  # "marq": one advisory lock id for every replica's migration


@contextmanager
def reachable() -> Iterator[None]:
    """Turn a lost or refused connection into StoreUnavailableError; a bad statement stays what it is."""
    try:
        yield
    except OperationalError as error:  # the connection failed or was lost, not a bad statement
        reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__
        raise StoreUnavailableError(reason) from error


def migrate(connection: Connection) -> None:
    """Bring the schema to the newest migration, inside the caller's transaction."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def psycopg_url(url: str) -> URL:
    """`url` with psycopg 3 as its driver; errors name the URL with its password hidden."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError("the database URL is not one: expected postgresql://user:password@host/db") from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        shown = parsed.render_as_string(hide_password=True)
        raise ValueError(f"the database URL must be postgresql://user:password@host/db; got {shown}")
    return parsed.set(drivername="postgresql+psycopg")


CONNECT_TIMEOUT_S = 5  # an unreachable host fails a request (503) in seconds, not at the OS's TCP timeout


class Database:
    """Pools of connections; each `begin` is its own transaction, so threads and replicas may share it.
    Opening it migrates the schema under an advisory lock: replicas that start together migrate once.

    Two pools, because reads are most of the traffic (every page a profile is computed for reads it and
    its events) and a read needs none of what a write does: writes run in transactions on connections
    pinged at checkout; reads run in autocommit on connections not pinged (a read on a connection the
    server dropped is tried once more on a new one). A read is then one round trip, where it was four
    (ping, BEGIN, SELECT, ROLLBACK).
    """

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        """`url`: postgresql://user:password@host:port/database (psycopg 3 is the driver)."""
        parsed = psycopg_url(url)
        connect = {"connect_timeout": CONNECT_TIMEOUT_S}
        writes = max(2, pool_size // 2)
        self._engine = create_engine(
            parsed, pool_pre_ping=True, pool_size=writes, max_overflow=writes, connect_args=connect
        )
        self._reads = create_engine(
            parsed,
            isolation_level="AUTOCOMMIT",
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args=connect,
        )
        with self.begin() as db:
            db.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
            migrate(db)

    @property
    def dialect(self) -> Dialect:
        return self._engine.dialect

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction, committed when the block ends."""
        with reachable(), self._engine.begin() as db:
            yield db

    def read(self, query: Executable) -> list[tuple[Any, ...]]:
        """The query's rows, read in autocommit. A connection the server dropped (a restart, an idle
        timeout) fails its first statement and invalidates the pool; the read is tried once more on a new
        connection, which is what a ping before every checkout would have bought."""
        with reachable():
            try:
                with self._reads.connect() as db:
                    return [tuple(row) for row in db.execute(query)]
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
            with self._reads.connect() as db:
                return [tuple(row) for row in db.execute(query)]

    def close(self) -> None:
        self._engine.dispose()
        self._reads.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
