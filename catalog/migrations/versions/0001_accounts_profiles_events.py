"""Accounts, profiles and events, as the SQLite store keeps them (catalog/events.py).

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created", sa.Double, nullable=False),
        sa.Column("key_hash", sa.Text, unique=True),
    )
    op.create_table(
        "profiles",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("maturity_limit", sa.Text),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("created", sa.Double, nullable=False),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False),
    )
    op.create_index("profiles_by_account", "profiles", ["account_id"])
    op.create_table(
        "events",
        sa.Column("profile_id", sa.Text, sa.ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("title_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("value", sa.Double),
        sa.Column("ts", sa.Double, nullable=False),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("ui_row", sa.Text),
        sa.Column("variant", sa.Text),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False),
        sa.PrimaryKeyConstraint("profile_id", "event_id"),
    )
    op.create_index("events_by_time", "events", ["profile_id", "ts"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("profiles")
    op.drop_table("accounts")
