"""Health, metrics, degraded mode, rate limits and the engine-not-loaded path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import create_app
from engine import Engine, Settings, package_version
from engine.config import ExperimentSettings
from engine.experiments import EXPERIMENTS_FILE, ServedPages, assign
from tests.api.conftest import DATASET, Signup, wait_loaded

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_livez_readyz_and_metrics(client: TestClient, signup: Signup) -> None:
    live = client.get("/livez").json()
    assert (live["status"], live["version"]) == ("ok", package_version())
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["degraded"] is False
    assert ready.json()["page_workers"] is None  # pages drafted in the server
    headers, profile = signup()
    client.get(f"/v1/profiles/{profile}/rows", headers=headers)
    client.post(
        f"/v1/profiles/{profile}/events",
        json={"events": [{"event_id": "m", "title_id": 1, "kind": "complete"}]},
        headers=headers,
    )
    text = client.get("/metrics").text
    assert 'route="/v1/profiles/{profile_id}/rows"' in text  # the template, not the raw id
    assert profile not in text
    assert 'marquee_events_ingested_total{kind="complete"}' in text


def test_unloadable_engine_is_not_ready_and_says_why(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, artifacts_dir=tmp_path / "none", state_dir=tmp_path / "state")
    with TestClient(create_app(s)) as client:
        assert client.get("/livez").status_code == 200
        wait_loaded(client)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "marquee build" in ready.json()["reason"]
        r = client.post("/v1/accounts", json={})
        assert r.status_code == 503 and r.json()["error"]["type"] == "unavailable"


def test_missing_ranker_serves_rows_in_candidate_order(api_settings: Settings, tmp_path: Path) -> None:
    copy = Settings(data_dir=api_settings.data_dir, artifacts_dir=tmp_path / "a", state_dir=tmp_path / "s")
    shutil.copytree(api_settings.dataset_artifacts(DATASET), copy.dataset_artifacts(DATASET))
    shutil.rmtree(copy.dataset_artifacts(DATASET) / "ranker")
    with TestClient(create_app(copy)) as client:  # the app loads (and closes) its own engine
        wait_loaded(client)
        key = client.post("/v1/accounts", json={}).json()["api_key"]
        headers = {"X-API-Key": key}
        profile = client.post("/v1/profiles", json={"name": "p"}, headers=headers).json()["id"]
        body = client.get(f"/v1/profiles/{profile}/rows", headers=headers).json()
        assert body["degraded"] is True and body["rows"] and body["rows"][0]["items"]
        assert client.get("/readyz").json()["degraded"] is True
        assert "marquee_fallbacks_total" in client.get("/metrics").text


def test_rate_limit_answers_429_with_retry_after(engine: Engine) -> None:
    settings = engine.settings().model_copy(
        update={"api": engine.settings().api.model_copy(update={"rate_limit_per_minute": 5})}
    )
    with TestClient(create_app(settings, engine)) as client:
        headers = {"X-API-Key": client.post("/v1/accounts", json={}).json()["api_key"]}
        codes = [client.get("/v1/profiles", headers=headers).status_code for _ in range(6)]
        assert codes == [200] * 5 + [429]
        r = client.get("/v1/profiles", headers=headers)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert r.json()["error"]["type"] == "rate_limited"
        # Another key has its own bucket.
        other = {"X-API-Key": client.post("/v1/accounts", json={}).json()["api_key"]}
        assert client.get("/v1/profiles", headers=other).status_code == 200


def test_unknown_routes_and_methods_get_the_json_error_shape(client: TestClient) -> None:
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"
    r = client.put("/v1/accounts")
    assert r.status_code == 405 and "error" in r.json()
    r = client.post("/v1/accounts", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "error" in r.json()


def test_experiment_arms_are_stable_served_and_recorded_on_events(engine: Engine) -> None:
    experiment = ExperimentSettings(name="rank1", arms=["ranker", "candidate_order"])
    settings = engine.settings().model_copy(update={"experiment": experiment})
    with TestClient(create_app(settings, engine)) as client:
        headers = {"X-API-Key": client.post("/v1/accounts", json={}).json()["api_key"]}
        arms = {}
        for i in range(8):
            profile = client.post("/v1/profiles", json={"name": f"p{i}"}, headers=headers).json()["id"]
            first = client.get(f"/v1/profiles/{profile}/rows", headers=headers).json()["variant"]
            again = client.get(f"/v1/profiles/{profile}/rows", headers=headers).json()["variant"]
            assert first == again == assign(experiment, profile)
            arms[profile] = first
        assert set(arms.values()) == {"ranker", "candidate_order"}  # 8 profiles: both, near certainly
        # The arm the page reports is the arm that served it (logged with its guardrails).
        pages = ServedPages(settings.dataset_state(settings.api.dataset) / EXPERIMENTS_FILE)
        served = {p.profile_id: p.arm for p in pages.pages() if p.profile_id in arms}
        pages.close()
        assert served == arms
        profile, arm = next(iter(arms.items()))
        impression = {
            "event_id": "i",
            "title_id": 1,
            "kind": "impression",
            "row": "top_picks",
            "artwork": "mood",
        }
        play = {"event_id": "p", "title_id": 1, "kind": "play"}
        client.post(f"/v1/profiles/{profile}/events", json={"events": [impression, play]}, headers=headers)
        stored = engine.events(profile)
        assert [e.variant for e in stored] == [arm, arm] and stored[0].context["artwork"] == "mood"
