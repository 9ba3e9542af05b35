"""Titles an operator adds, changes or removes while serving, shared by every replica (engine/title_edits.py),
and a version per data set that each edit raises, which replicas poll to reload their catalog.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "title_edits",
        sa.Column("dataset", sa.Text, nullable=False),
        sa.Column("title_id", sa.BigInteger, nullable=False),
        sa.Column("title", sa.Text),  # the title as JSON (Title.to_json); NULL: removed
        sa.PrimaryKeyConstraint("dataset", "title_id"),
    )
    op.create_table(
        "title_edit_versions",
        sa.Column("dataset", sa.Text, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("title_edit_versions")
    op.drop_table("title_edits")
