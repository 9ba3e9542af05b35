"""Accounts, profiles and events as the SQLite store made them before Alembic: adopted as they are.

Revision ID: events_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "events_0001"
down_revision = None
branch_labels = ("events",)
depends_on = None

# IF NOT EXISTS: a file made before migrations holds these already, and this baseline leaves it be.
STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS accounts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created REAL NOT NULL,
        key_hash TEXT UNIQUE
    )""",
    """CREATE TABLE IF NOT EXISTS profiles (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        maturity_limit TEXT,
        language TEXT NOT NULL,
        region TEXT NOT NULL,
        created REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS profiles_by_account ON profiles(account_id)",
    """CREATE TABLE IF NOT EXISTS events (
        profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        event_id TEXT NOT NULL,
        title_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        value REAL,
        ts REAL NOT NULL,
        context TEXT NOT NULL,
        ui_row TEXT,
        variant TEXT,
        PRIMARY KEY (profile_id, event_id)
    )""",
    "CREATE INDEX IF NOT EXISTS events_by_time ON events(profile_id, ts)",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in ("events", "profiles", "accounts"):
        op.drop_table(table)
