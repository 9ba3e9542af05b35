"""Alembic migrations of the SQLite state files, one branch per file (events, bandits, conversations,
pages), run as a store opens its file (catalog/sqlite_schema.py)."""
