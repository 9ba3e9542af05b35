"""The SQLite state files under Alembic: a file made before migrations (by the code as it was) is adopted
in place with every row kept; a new file is made at the head; stores opening one file at once agree."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from catalog import EventStore
from catalog.conversations import SQLiteConversations
from catalog.sqlite_schema import SQLITE_MIGRATIONS, revisions
from engine.experiments import ServedPages
from ranker.beta_counts import SQLiteBetaCounts
from tests.conftest import REPO_ROOT

# What each store created on opening before Alembic (CREATE TABLE IF NOT EXISTS), frozen here as it was.
OLD_SCHEMAS = {
    "events": """
        CREATE TABLE accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL,
            key_hash TEXT UNIQUE);
        CREATE TABLE profiles (id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE, name TEXT NOT NULL,
            maturity_limit TEXT, language TEXT NOT NULL, region TEXT NOT NULL, created REAL NOT NULL);
        CREATE INDEX profiles_by_account ON profiles(account_id);
        CREATE TABLE events (profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
            event_id TEXT NOT NULL, title_id INTEGER NOT NULL, kind TEXT NOT NULL, value REAL,
            ts REAL NOT NULL, context TEXT NOT NULL, ui_row TEXT, variant TEXT,
            PRIMARY KEY (profile_id, event_id));
        CREATE INDEX events_by_time ON events(profile_id, ts);
        INSERT INTO accounts VALUES ('acc', 'home', 1.0, 'hash');
        INSERT INTO profiles VALUES ('pro', 'acc', 'Ada', NULL, 'en', 'US', 2.0);
        INSERT INTO events VALUES ('pro', 'e1', 7, 'play', NULL, 3.0, '{}', 'trending:0', NULL);
    """,
    "bandits": """
        CREATE TABLE beta_counts (policy TEXT NOT NULL, scope TEXT NOT NULL, arm TEXT NOT NULL,
            successes INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (policy, scope, arm)) WITHOUT ROWID;
        INSERT INTO beta_counts VALUES ('rows', 'comedy', 'new', 3, 9);
    """,
    "conversations": """
        CREATE TABLE profile_conversations (profile_id TEXT NOT NULL, id TEXT NOT NULL,
            state TEXT NOT NULL, updated REAL NOT NULL, PRIMARY KEY (profile_id, id));
        INSERT INTO profile_conversations VALUES ('pro', 'c1', '{"turns": 4}', 1.0);
    """,
    "pages": """
        CREATE TABLE served_pages (profile_id TEXT NOT NULL, experiment TEXT, arm TEXT NOT NULL,
            ts REAL NOT NULL, latency_ms REAL NOT NULL, ild REAL NOT NULL, teams TEXT);
        CREATE INDEX served_by_arm ON served_pages(arm);
        INSERT INTO served_pages VALUES ('pro', 'rank1', 'ranker', 5.0, 12.0, 0.5, NULL);
    """,
}


def _read_events(path: Path) -> object:
    with EventStore(path) as store:
        return (store.account_by_key_hash("hash"), store.profiles("acc"), store.events("pro"))


def _read_counts(path: Path) -> object:
    counts = SQLiteBetaCounts(path)
    try:
        return counts.load("rows")
    finally:
        counts.close()


def _read_conversation(path: Path) -> object:
    conversations = SQLiteConversations(path)
    try:
        return conversations.get("pro", "c1")
    finally:
        conversations.close()


def _read_pages(path: Path) -> object:
    pages = ServedPages(path)
    try:
        return [(p.profile_id, p.arm, p.latency_ms) for p in pages.pages()]
    finally:
        pages.close()


READERS: dict[str, Callable[[Path], object]] = {
    "events": _read_events,
    "bandits": _read_counts,
    "conversations": _read_conversation,
    "pages": _read_pages,
}


def _head(branch: str) -> str:
    found = ScriptDirectory(str(SQLITE_MIGRATIONS)).get_revision(f"{branch}@head")
    assert found is not None
    return found.revision


def _schema(path: Path) -> list[tuple[str, str, list[tuple[object, ...]]]]:
    """The file's tables and indexes with their columns (name, type, not null, default, key), Alembic's
    own left out."""
    with closing(sqlite3.connect(path)) as db:
        query = "SELECT type, name FROM sqlite_master WHERE tbl_name NOT LIKE 'alembic%' ORDER BY name"
        return [
            (kind, name, db.execute(f"PRAGMA {kind}_xinfo('{name}')").fetchall())
            for kind, name in db.execute(query).fetchall()
        ]


@pytest.mark.parametrize("branch", sorted(OLD_SCHEMAS))
def test_a_file_made_before_migrations_is_adopted_in_place_with_its_rows(branch: str, tmp_path: Path) -> None:
    old, new = tmp_path / "old.sqlite", tmp_path / "new.sqlite"
    with closing(sqlite3.connect(old)) as db:
        db.executescript(OLD_SCHEMAS[branch])
    before = _schema(old)
    adopted = READERS[branch](old)
    with closing(sqlite3.connect(old)) as db:
        assert revisions(db) == {_head(branch)}
    assert _schema(old) == before  # nothing dropped or remade: the rows read above are the old ones
    assert READERS[branch](old) == adopted  # reopening at the head changes nothing
    READERS[branch](new)
    assert _schema(new) == before  # a new file gets the very schema the old code made


def test_the_adopted_rows_are_the_stored_ones(tmp_path: Path) -> None:
    paths = {branch: tmp_path / f"{branch}.sqlite" for branch in OLD_SCHEMAS}
    for branch, path in paths.items():
        with closing(sqlite3.connect(path)) as db:
            db.executescript(OLD_SCHEMAS[branch])
    account, profiles, events = READERS["events"](paths["events"])  # type: ignore[misc]
    assert (account.id, [p.name for p in profiles], [(e.event_id, e.title_id) for e in events]) == (
        "acc",
        ["Ada"],
        [("e1", 7)],
    )
    assert READERS["bandits"](paths["bandits"]) == {("comedy", "new"): (3, 9)}
    assert READERS["conversations"](paths["conversations"]) == '{"turns": 4}'
    assert READERS["pages"](paths["pages"]) == [("pro", "ranker", 12.0)]


def test_conversations_under_global_ids_move_over_in_the_baseline(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "CREATE TABLE conversations (id TEXT PRIMARY KEY, profile_id TEXT NOT NULL, state TEXT NOT NULL,"
            " updated REAL NOT NULL)"
        )
        db.execute("INSERT INTO conversations VALUES ('c1', 'pro', '{\"turns\": 4}', 1.0)")
    assert _read_conversation(path) == '{"turns": 4}'
    assert "conversations" not in {name for _, name, _ in _schema(path)}


def test_stores_opening_one_new_file_at_once_all_open_it(tmp_path: Path) -> None:
    """Replicas on one machine starting together: whoever migrates second finds the work done."""
    path, failures = tmp_path / "events.sqlite", []

    def open_store() -> None:
        try:
            EventStore(path).close()
        except Exception as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(_head("events"),)]


@pytest.mark.slow
def test_processes_opening_one_new_file_at_once_migrate_it_once(tmp_path: Path) -> None:
    """As above, across processes: SQLite's write lock, not a lock of this process, keeps them apart."""
    path = tmp_path / "conversations.sqlite"
    code = (  # imported first, then all open the file at one agreed moment
        "import sys, time; from catalog.conversations import SQLiteConversations as C; "
        "time.sleep(max(0.0, float(sys.argv[3]) - time.time())); "
        "c = C(sys.argv[1]); c.save('p', sys.argv[2], '{}'); c.close()"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    at = str(time.time() + 10)
    command = [sys.executable, "-c", code, str(path)]
    procs = [subprocess.Popen([*command, f"c{i}", at], env=env, stderr=subprocess.PIPE) for i in range(4)]
    errors = [proc.communicate(timeout=120)[1].decode() for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 4, errors
    with closing(sqlite3.connect(path)) as db:
        assert revisions(db) == {_head("conversations")}
        assert db.execute("SELECT count(*) FROM profile_conversations").fetchone() == (4,)
