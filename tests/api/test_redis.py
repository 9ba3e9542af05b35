"""The homepage cache in Redis (MARQUEE_REDIS_URL): two apps on one PostgreSQL database and one Redis, as two
replicas would be, serve each other's rebuilt pages; an unreachable Redis still serves pages, uncached."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import create_app
from engine import Engine, Settings, over_state
from tests import redis_server
from tests.api.test_postgres import replicas  # noqa: F401 (a fixture: two apps on one database)
from tests.postgres import free_port

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture
def cached_replicas(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> tuple[TestClient, TestClient]:
    monkeypatch.setenv("MARQUEE_REDIS_URL", redis_url)  # before the apps read their settings
    pair: tuple[TestClient, TestClient] = request.getfixturevalue("replicas")
    return pair


def rows(client: TestClient, headers: dict[str, str], profile: str) -> tuple[dict[str, list[int]], str]:
    r = client.get(f"/v1/profiles/{profile}/rows?device=tv", headers=headers)
    assert r.status_code == 200, r.text
    return {row["kind"]: [i["title_id"] for i in row["items"]] for row in r.json()["rows"]}, r.headers[
        "X-Cache"
    ]


def test_a_play_posted_on_one_replica_shows_in_the_other_replicas_next_page(
    cached_replicas: tuple[TestClient, TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    a, b = cached_replicas
    headers = {"X-API-Key": a.post("/v1/accounts", json={"name": "home"}).json()["api_key"]}
    profile = a.post("/v1/profiles", json={"name": "Ada"}, headers=headers).json()["id"]
    before, first = rows(a, headers, profile)
    assert first == "miss" and "continue_watching" not in before
    assert rows(a, headers, profile) == (before, "hit")
    assert rows(b, headers, profile) == (before, "hit")  # B reads the page A cached
    started = before["top_picks"][0]
    play = {"events": [{"event_id": "p1", "title_id": started, "kind": "play", "context": {"device": "tv"}}]}
    posted = b.post(f"/v1/profiles/{profile}/events", json=play, headers=headers)
    assert posted.status_code == 200 and posted.json()["stored"] == 1, posted.text
    # B rebuilt the page before acknowledging the play; A serves that page, not the one it cached before.
    after, outcome = rows(a, headers, profile)
    assert outcome == "hit" and after["continue_watching"] == [started]
    assert redis_server.PASSWORD not in caplog.text


def test_an_unreachable_redis_still_serves_rows(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MARQUEE_REDIS_URL", f"redis://:{redis_server.PASSWORD}@127.0.0.1:{free_port()}/0")
    base = engine.settings()
    settings = Settings(
        data_dir=base.data_dir, artifacts_dir=base.artifacts_dir, state_dir=tmp_path, api=base.api
    )
    assert settings.redis_url is not None and redis_server.PASSWORD not in repr(settings)
    with over_state(engine, settings) as eng, TestClient(create_app(settings, eng)) as client:
        headers = {"X-API-Key": client.post("/v1/accounts", json={"name": "home"}).json()["api_key"]}
        profile = client.post("/v1/profiles", json={"name": "Ada"}, headers=headers).json()["id"]
        for _ in range(2):
            assert rows(client, headers, profile)[1] == "miss"  # computed each time: nothing to cache in
        played = {"events": [{"event_id": "p1", "title_id": min(engine.titles()), "kind": "play"}]}
        assert client.post(f"/v1/profiles/{profile}/events", json=played, headers=headers).status_code == 200
    assert "unreachable" in caplog.text and redis_server.PASSWORD not in caplog.text


def test_a_profile_deleted_on_one_replica_is_gone_from_the_others_feed_at_once(
    cached_replicas: tuple[TestClient, TestClient], engine: Engine
) -> None:
    """A keeps the profile's owner after its first request (api/owners.py); B's delete still answers 404
    on A's very next page, event batch and list: those read the profile to do their work."""
    a, b = cached_replicas
    headers = {"X-API-Key": a.post("/v1/accounts", json={"name": "home"}).json()["api_key"]}
    profile = a.post("/v1/profiles", json={"name": "Ada"}, headers=headers).json()["id"]
    rows(a, headers, profile)
    assert rows(a, headers, profile)[1] == "hit"
    assert b.delete(f"/v1/profiles/{profile}", headers=headers).status_code == 204
    assert a.get(f"/v1/profiles/{profile}/rows?device=tv", headers=headers).status_code == 404
    played = {"events": [{"event_id": "p1", "title_id": min(engine.titles()), "kind": "play"}]}
    assert a.post(f"/v1/profiles/{profile}/events", json=played, headers=headers).status_code == 404
    assert a.get(f"/v1/profiles/{profile}/list", headers=headers).status_code == 404
    assert a.get(f"/v1/profiles/{profile}", headers=headers).status_code == 404
