"""The API over accounts, profiles and events kept in PostgreSQL (MARQUEE_DATABASE_URL): two apps on one
database, as two replicas would be, see each other's accounts, profiles and events."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api import create_app
from catalog.pg_events import PostgresStore
from engine import Engine, Settings, over_state
from tests.postgres import PASSWORD

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture
def replicas(
    engine: Engine, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps over the session engine's loaded parts, each with its own state opened from settings
    read from the environment: both on the same PostgreSQL database, each with its own state folder."""
    monkeypatch.setenv("MARQUEE_DATABASE_URL", postgres_url)
    with ExitStack() as stack:
        clients = []
        for name in ("a", "b"):
            base = engine.settings()
            settings = Settings(
                data_dir=base.data_dir,
                artifacts_dir=base.artifacts_dir,
                state_dir=tmp_path / name,
                api=base.api,
            )
            eng = stack.enter_context(over_state(engine, settings))
            clients.append(stack.enter_context(TestClient(create_app(settings, eng))))
        yield clients[0], clients[1]


def test_signup_profiles_and_events_round_trip_across_apps_on_one_database(
    replicas: tuple[TestClient, TestClient],
    engine: Engine,
    postgres_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    a, b = replicas
    key = a.post("/v1/accounts", json={"name": "home"}).json()["api_key"]
    headers = {"X-API-Key": key}
    made = a.post("/v1/profiles", json={"name": "Ada", "maturity_limit": "pg-13"}, headers=headers)
    assert made.status_code == 201, made.text
    profile = made.json()["id"]
    # The key and the profile made on A work on B.
    listed = b.get("/v1/profiles", headers=headers)
    assert listed.status_code == 200 and [p["id"] for p in listed.json()["profiles"]] == [profile]
    assert b.get(f"/v1/profiles/{profile}", headers=headers).json()["maturity_limit"] == "PG-13"

    title = min(engine.titles())
    batch = {"events": [{"event_id": "e1", "title_id": title, "kind": "play", "ts": 10.0}]}
    first = a.post(f"/v1/profiles/{profile}/events", json=batch, headers=headers)
    assert first.status_code == 200 and first.json()["stored"] == 1, first.text
    again = b.post(f"/v1/profiles/{profile}/events", json=batch, headers=headers)
    assert again.json()["results"] == [{"event_id": "e1", "status": "duplicate"}]
    changed = {"events": [{"event_id": "e1", "title_id": title, "kind": "complete", "ts": 10.0}]}
    conflict = b.post(f"/v1/profiles/{profile}/events", json=changed, headers=headers)
    assert conflict.status_code == 409 and "kind" in conflict.text

    with PostgresStore(postgres_url) as store:  # in the database itself, not in either app's state folder
        assert [(e.event_id, e.title_id, e.kind.value) for e in store.events(profile)] == [
            ("e1", title, "play")
        ]
        held = store.profile(profile)
        assert held is not None and held.name == "Ada"
    assert b.delete(f"/v1/profiles/{profile}", headers=headers).status_code == 204
    assert a.get(f"/v1/profiles/{profile}", headers=headers).status_code == 404
    assert PASSWORD not in caplog.text


def test_a_lost_database_answers_503_and_the_service_recovers_when_it_is_back(
    replicas: tuple[TestClient, TestClient], postgres_server: str, postgres_url: str
) -> None:
    a, _ = replicas
    headers = {"X-API-Key": a.post("/v1/accounts", json={"name": "home"}).json()["api_key"]}
    assert a.get("/v1/profiles", headers=headers).status_code == 200
    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_server, autocommit=True) as admin:  # the pool's connections cut, then gone
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        admin.execute(f'ALTER DATABASE "{name}" RENAME TO "{name}_away"')
    gone = a.get("/v1/profiles", headers=headers)
    assert gone.status_code == 503 and gone.headers["Retry-After"] == "5", gone.text
    assert "unavailable" in gone.json()["error"]["message"] and PASSWORD not in gone.text
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}_away" RENAME TO "{name}"')
    assert a.get("/v1/profiles", headers=headers).status_code == 200


def test_the_database_url_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARQUEE_DATABASE_URL", f"postgresql://marquee:{PASSWORD}@db:5432/marquee")
    settings = Settings()
    assert settings.database_url is not None and PASSWORD in settings.database_url.get_secret_value()
    assert PASSWORD not in repr(settings) and PASSWORD not in settings.model_dump_json()


def test_a_database_url_of_another_kind_is_refused_without_its_password() -> None:
    with pytest.raises(ValueError, match="postgresql://") as info:
        PostgresStore(f"mysql://marquee:{PASSWORD}@db/marquee")
    assert PASSWORD not in str(info.value)
