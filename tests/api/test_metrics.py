"""The latency histogram: one series per (method, route template, status), each counting its requests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api import create_app
from engine import Engine

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_each_request_lands_in_its_own_series(engine: Engine) -> None:
    with TestClient(create_app(engine.settings(), engine)) as client:
        headers = {"X-API-Key": client.post("/v1/accounts", json={}).json()["api_key"]}
        for _ in range(3):
            client.get("/v1/profiles", headers=headers)
        for _ in range(2):
            client.get("/v1/profiles")
        client.get("/v1/nothing")
        text = client.get("/metrics").text
    series = 'marquee_request_seconds_count{method="GET",route="%s",status="%s"}'
    assert f"{series % ('/v1/profiles', 200)} 3.0" in text
    assert f"{series % ('/v1/profiles', 401)} 2.0" in text
    assert f"{series % ('unmatched', 404)} 1.0" in text
