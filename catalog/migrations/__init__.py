"""Alembic migrations of the PostgreSQL stores, run as their `Database` opens (catalog/database.py)."""
