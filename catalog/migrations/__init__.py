"""Alembic migrations of the PostgreSQL store (catalog/pg_events.py), run by the store as it opens."""
