"""Key checks as the profile routes see them: either header, one token a request, nothing remembered."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api import create_app
from api.auth import hash_key
from engine import Engine
from tests.api.conftest import Signup

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_the_key_works_as_a_bearer_token_too(client: TestClient, signup: Signup) -> None:
    headers, profile = signup()
    bearer = {"Authorization": f"Bearer {headers['X-API-Key']}"}
    assert client.get(f"/v1/profiles/{profile}", headers=bearer).status_code == 200
    assert client.get("/v1/profiles", headers=bearer).status_code == 200
    basic = {"Authorization": f"Basic {headers['X-API-Key']}"}
    assert client.get(f"/v1/profiles/{profile}", headers=basic).status_code == 401


def test_a_bad_key_is_refused_before_the_path_is_validated(client: TestClient, signup: Signup) -> None:
    headers, _ = signup()
    too_long = "x" * 65
    for sent in ({}, {"X-API-Key": "mq_nope"}):
        r = client.get(f"/v1/profiles/{too_long}/rows", headers=sent)
        assert r.status_code == 401 and r.json()["error"]["field"] == "X-API-Key"
    assert client.get(f"/v1/profiles/{too_long}/rows", headers=headers).status_code == 422


def test_a_revoked_key_stops_working_at_once(client: TestClient, signup: Signup, engine: Engine) -> None:
    headers, profile = signup()
    assert client.get(f"/v1/profiles/{profile}/rows", headers=headers).status_code == 200
    account = engine.accounts().account_by_key_hash(hash_key(headers["X-API-Key"]))
    assert account is not None
    engine.accounts().set_key_hash(account.id, None)
    assert client.get(f"/v1/profiles/{profile}/rows", headers=headers).status_code == 401
    assert client.get("/v1/profiles", headers=headers).status_code == 401


def test_a_deleted_profile_is_gone_at_once(client: TestClient, signup: Signup) -> None:
    headers, profile = signup()
    assert client.get(f"/v1/profiles/{profile}/rows", headers=headers).status_code == 200
    assert client.delete(f"/v1/profiles/{profile}", headers=headers).status_code == 204
    assert client.get(f"/v1/profiles/{profile}/rows", headers=headers).status_code == 404


def test_a_profile_request_spends_one_token(engine: Engine) -> None:
    settings = engine.settings().model_copy(
        update={"api": engine.settings().api.model_copy(update={"rate_limit_per_minute": 3})}
    )
    with TestClient(create_app(settings, engine)) as client:
        headers = {"X-API-Key": client.post("/v1/accounts", json={}).json()["api_key"]}
        profile = client.post("/v1/profiles", json={"name": "p"}, headers=headers).json()["id"]
        codes = [client.get(f"/v1/profiles/{profile}", headers=headers).status_code for _ in range(3)]
        assert codes == [200, 200, 429]


def test_openapi_lists_both_ways_to_send_the_key(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["components"]["securitySchemes"]) == {"APIKeyHeader", "HTTPBearer"}
    both = [{"APIKeyHeader": []}, {"HTTPBearer": []}]
    assert spec["paths"]["/v1/profiles/{profile_id}/rows"]["get"]["security"] == both
    assert spec["paths"]["/v1/profiles"]["get"]["security"] == both
