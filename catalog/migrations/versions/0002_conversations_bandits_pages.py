"""Conversations, the bandits' counts and the experiment page log: what replicas still kept apart.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "profile_conversations",
        sa.Column("profile_id", sa.Text, nullable=False),
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),  # the dialogue state as JSON, as SQLite keeps it
        sa.Column("updated", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("profile_id", "id"),
    )
    op.create_table(
        "beta_counts",
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("arm", sa.Text, nullable=False),
        sa.Column("successes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("failures", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("policy", "scope", "arm"),
    )
    op.create_table(
        "served_pages",
        sa.Column("profile_id", sa.Text, nullable=False),
        sa.Column("experiment", sa.Text),
        sa.Column("arm", sa.Text, nullable=False),
        sa.Column("ts", sa.Double, nullable=False),
        sa.Column("latency_ms", sa.Double, nullable=False),
        sa.Column("ild", sa.Double, nullable=False),
        sa.Column("teams", sa.Text),  # JSON: title id -> the arm that contributed it (interleaving)
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False),  # ties in `ts` keep insert order
    )
    op.create_index("served_by_arm", "served_pages", ["arm"])


def downgrade() -> None:
    op.drop_table("served_pages")
    op.drop_table("beta_counts")
    op.drop_table("profile_conversations")
