"""Faults the service answers through instead of dying: a slow start, a Qdrant server that is away."""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api.app
from api import create_app
from engine import ArtifactsMissingError, Engine, Settings
from tests.api.conftest import wait_loaded

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_requests_before_ready_get_503_with_retry_after(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    release = threading.Event()

    def slow_load(settings: Settings, dataset: str) -> Engine:
        release.wait(30)
        raise ArtifactsMissingError("no artifacts for 'x'; run `marquee build`")

    monkeypatch.setattr(api.app, "assemble", slow_load)
    s = Settings(data_dir=tmp_path, artifacts_dir=tmp_path / "a", state_dir=tmp_path / "s")
    with TestClient(create_app(s)) as client:
        try:
            assert client.get("/livez").status_code == 200  # answered while the engine loads
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
            assert ready.json()["reason"] == "loading artifacts, models and the title index"
            r = client.post("/v1/accounts", json={})
            assert r.status_code == 503 and r.headers["Retry-After"] == "5"
            assert "loading" in r.json()["error"]["message"]
        finally:
            release.set()
        wait_loaded(client)
        assert "marquee build" in client.get("/readyz").json()["reason"]


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connections are refused at once
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_qdrant_away_serves_degraded_and_never_shows_its_credentials(
    api_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://admin:hunter2@127.0.0.1:{_closed_port()}"
    s = api_settings.model_copy(update={"qdrant_url": url, "state_dir": tmp_path / "state"})
    seen: list[str] = []
    with caplog.at_level(logging.INFO), TestClient(create_app(s)) as client:
        wait_loaded(client)
        ready = client.get("/readyz")
        seen.append(ready.text)
        assert ready.status_code == 200 and ready.json()["degraded"] is True
        assert "title index unreachable" in ready.json()["reason"] and "***@127.0.0.1" in ready.text
        key = client.post("/v1/accounts", json={}).json()["api_key"]
        headers = {"X-API-Key": key}
        profile = client.post("/v1/profiles", json={"name": "p", "maturity_limit": "PG"}, headers=headers)
        pid = profile.json()["id"]
        rows = client.get(f"/v1/profiles/{pid}/rows", headers=headers)
        search = client.get(f"/v1/profiles/{pid}/search", params={"q": "toy story"}, headers=headers)
        similar = client.get("/v1/titles/1/similar", headers=headers)
        chat = client.post(
            "/v1/chat/completions",
            headers=headers,
            json={
                "model": "marquee-offline",
                "profile_id": pid,
                "messages": [{"role": "user", "content": "a funny movie please"}],
            },
        )
        for r in (rows, search, similar, chat):
            assert r.status_code == 200, r.text
            seen.append(r.text)
        assert rows.json()["degraded"] is True and rows.json()["rows"]
        assert all(
            client.get(f"/v1/titles/{item['title_id']}", headers=headers).json()["maturity"]
            in ("G", "PG", None)
            for row in rows.json()["rows"]
            for item in row["items"]
        ), "the popularity fallback keeps the profile's maturity limit"
        assert search.json()["degraded"] is True
        assert "Toy Story" in search.json()["results"][0]["name"]  # names match without the index
        assert similar.json()["degraded"] is True and similar.json()["results"]
        marquee = chat.json()["marquee"]  # its picks are the same popularity fallback's, and it says so
        assert marquee["degraded"] is True and marquee["titles"] and marquee["notice"]
    assert not any("hunter2" in text or "admin:" in text for text in seen)
    assert "unreachable" in caplog.text and "hunter2" not in caplog.text
