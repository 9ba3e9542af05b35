"""Reads on PostgreSQL go without a ping per checkout (catalog/pg_events.py): a connection the server
dropped is replaced on the read that finds it, which the caller never sees."""

from __future__ import annotations

import psycopg
import pytest

from catalog.pg_events import PostgresStore

pytestmark = pytest.mark.slow


def test_reads_survive_the_server_dropping_every_connection(postgres_server: str, postgres_url: str) -> None:
    with PostgresStore(postgres_url) as store:
        account = store.create_account("home", key_hash="h1")
        profile = store.create_profile(account.id, "Ada")
        assert store.profile(profile.id) == profile  # the read pool now holds a connection
        name = postgres_url.rsplit("/", 1)[1]
        drop = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
        with psycopg.connect(postgres_server, autocommit=True) as admin:  # as a restart would
            admin.execute(drop, (name,))
        found = store.account_by_key_hash("h1")
        assert found is not None and found.id == account.id
        assert store.profiles(account.id) == [profile] and store.count(profile.id) == 0
