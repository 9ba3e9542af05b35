"""The experiment page log as the SQLite store made it before Alembic: adopted as it is.

Revision ID: pages_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "pages_0001"
down_revision = None
branch_labels = ("pages",)
depends_on = None


def upgrade() -> None:
    # IF NOT EXISTS: a file made before migrations holds them already, and this baseline leaves it be.
    op.execute(
        """CREATE TABLE IF NOT EXISTS served_pages (
            profile_id TEXT NOT NULL,
            experiment TEXT,
            arm TEXT NOT NULL,
            ts REAL NOT NULL,
            latency_ms REAL NOT NULL,
            ild REAL NOT NULL,
            teams TEXT
        )"""
    )
    op.execute("CREATE INDEX IF NOT EXISTS served_by_arm ON served_pages(arm)")


def downgrade() -> None:
    op.drop_table("served_pages")
