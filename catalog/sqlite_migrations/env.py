"""Alembic's environment: migrations run on the store's own connection (catalog.sqlite_schema.migrate)."""

from __future__ import annotations

from alembic import context

# Batch mode: SQLite alters a table by copying it, which Alembic's batch operations do for a migration.
context.configure(connection=context.config.attributes["connection"], render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
