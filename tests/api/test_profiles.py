"""Accounts, keys, profile CRUD and the access matrix: another account's profile is never visible."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from engine import Engine
from tests.api.conftest import Signup

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_account_key_is_returned_once_and_stored_hashed(client: TestClient, engine: Engine) -> None:
    r = client.post("/v1/accounts", json={"name": "fam"})
    assert r.status_code == 201
    body = r.json()
    key = body["api_key"]
    account = engine.accounts().account_by_key_hash(hashlib.sha256(key.encode()).hexdigest())
    assert account is not None and account.id == body["account_id"]
    assert engine.accounts().account_by_key_hash(key) is None  # the raw key itself is not stored


def test_profile_crud(client: TestClient) -> None:
    headers = {"X-API-Key": client.post("/v1/accounts", json={}).json()["api_key"]}
    created = client.post("/v1/profiles", json={"name": "Kids", "maturity_limit": "pg"}, headers=headers)
    assert created.status_code == 201
    kid = created.json()
    assert kid["maturity_limit"] == "PG" and kid["region"] == "US"
    client.post("/v1/profiles", json={"name": "Me", "region": "fr"}, headers=headers)
    listed = client.get("/v1/profiles", headers=headers).json()["profiles"]
    assert [p["name"] for p in listed] == ["Kids", "Me"] and listed[1]["region"] == "FR"
    patched = client.patch(f"/v1/profiles/{kid['id']}", json={"name": "Little ones"}, headers=headers)
    assert patched.json()["name"] == "Little ones" and patched.json()["maturity_limit"] == "PG"
    unlimited = client.patch(f"/v1/profiles/{kid['id']}", json={"maturity_limit": None}, headers=headers)
    assert unlimited.json()["maturity_limit"] is None
    assert client.get(f"/v1/profiles/{kid['id']}", headers=headers).json()["name"] == "Little ones"
    assert client.delete(f"/v1/profiles/{kid['id']}", headers=headers).status_code == 204
    assert client.get(f"/v1/profiles/{kid['id']}", headers=headers).status_code == 404
    assert len(client.get("/v1/profiles", headers=headers).json()["profiles"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "maturity_limit": "XXX"}, "maturity_limit"),
        ({"name": ""}, "name"),
        ({"name": "x", "region": "ZZ"}, "region"),
        ({"name": "x", "colour": "blue"}, "colour"),
        ({}, "name"),
    ],
)
def test_profile_validation_names_the_field(
    client: TestClient, signup: Signup, body: dict, field: str
) -> None:
    headers, _ = signup()
    r = client.post("/v1/profiles", json=body, headers=headers)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["type"] == "validation_error" and error["field"] == field, error


def test_missing_or_wrong_key_is_401(client: TestClient) -> None:
    for headers in ({}, {"X-API-Key": "mq_nope"}):
        r = client.get("/v1/profiles", headers=headers)
        assert r.status_code == 401 and r.json()["error"]["field"] == "X-API-Key"


def test_access_matrix_never_leaks_another_accounts_profile(client: TestClient, signup: Signup) -> None:
    mine, _ = signup()
    theirs, their_profile = signup()
    client.post(
        f"/v1/profiles/{their_profile}/events",
        json={"events": [{"event_id": "secret", "title_id": 1, "kind": "play"}]},
        headers=theirs,
    )
    p = f"/v1/profiles/{their_profile}"
    calls = [
        ("GET", p, None),
        ("PATCH", p, {"name": "pwned"}),
        ("DELETE", p, None),
        ("GET", f"{p}/rows", None),
        ("GET", f"{p}/search?q=toy", None),
        ("GET", f"{p}/next?after=1", None),
        ("GET", f"{p}/recommendations", None),
        ("POST", f"{p}/events", {"events": [{"event_id": "x", "title_id": 1, "kind": "play"}]}),
        ("POST", f"{p}/onboarding", {"genres": ["Comedy"]}),
        ("GET", f"/v1/titles/1/similar?profile_id={their_profile}", None),
    ]
    for method, url, body in calls:
        r = client.request(method, url, json=body, headers=mine)
        assert r.status_code in (403, 404), (method, url, r.status_code)
        assert set(r.json()) == {"error"} and "secret" not in r.text and "main" not in r.text
        # The same answer as for an id that never existed: nothing tells the two apart.
        unknown = client.request(method, url.replace(their_profile, "0" * 32), json=body, headers=mine)
        assert unknown.status_code == r.status_code
    assert their_profile not in client.get("/v1/profiles", headers=mine).text
    # And the owner still has everything.
    mine_now = client.get(p, headers=theirs)
    assert mine_now.status_code == 200 and mine_now.json()["name"] == "main"
