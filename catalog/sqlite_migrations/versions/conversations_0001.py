"""Conversations as the SQLite store made them before Alembic: adopted as they are, and those of a file
older still, stored under global ids, moved under (profile, id) as the store used to do on opening.

Revision ID: conversations_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "conversations_0001"
down_revision = None
branch_labels = ("conversations",)
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS profile_conversations (profile_id TEXT NOT NULL, id TEXT NOT NULL,"
        " state TEXT NOT NULL, updated REAL NOT NULL, PRIMARY KEY (profile_id, id))"
    )
    found = op.get_bind().execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'conversations'"))
    if found.first() is not None:
        op.execute(
            "INSERT OR IGNORE INTO profile_conversations SELECT profile_id, id, state, updated"
            " FROM conversations"
        )
        op.execute("DROP TABLE conversations")


def downgrade() -> None:
    op.drop_table("profile_conversations")
