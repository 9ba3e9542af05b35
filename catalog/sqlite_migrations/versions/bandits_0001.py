"""The bandits' counts as the SQLite store made them before Alembic: adopted as they are.

Revision ID: bandits_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "bandits_0001"
down_revision = None
branch_labels = ("bandits",)
depends_on = None


def upgrade() -> None:
    # IF NOT EXISTS: a file made before migrations holds it already, and this baseline leaves it be.
    op.execute(
        """CREATE TABLE IF NOT EXISTS beta_counts (
            policy TEXT NOT NULL,
            scope TEXT NOT NULL,
            arm TEXT NOT NULL,
            successes INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (policy, scope, arm)
        ) WITHOUT ROWID"""
    )


def downgrade() -> None:
    op.drop_table("beta_counts")
