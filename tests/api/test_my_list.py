"""My List through the API: saved titles come back newest first, in their own row, and leave when
removed or finished."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Signup

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def send(client: TestClient, headers: dict[str, str], profile: str, *events: tuple[str, int, str]) -> None:
    body = {"events": [{"event_id": eid, "title_id": t, "kind": kind} for eid, t, kind in events]}
    r = client.post(f"/v1/profiles/{profile}/events", json=body, headers=headers)
    assert r.status_code == 200, r.text


def page(client: TestClient, headers: dict[str, str], profile: str) -> dict[str, list[int]]:
    rows = client.get(f"/v1/profiles/{profile}/rows", headers=headers).json()["rows"]
    return {row["id"]: [i["title_id"] for i in row["items"]] for row in rows}


def listed(client: TestClient, headers: dict[str, str], profile: str) -> list[int]:
    r = client.get(f"/v1/profiles/{profile}/list", headers=headers)
    assert r.status_code == 200, r.text
    return [i["title_id"] for i in r.json()["items"]]


def test_my_list_round_trip(client: TestClient, signup: Signup) -> None:
    headers, profile = signup()
    assert listed(client, headers, profile) == []
    before = page(client, headers, profile)  # cached now: the list events must replace it
    assert "my_list" not in before
    a, b, c = before["top_picks"][:3]
    send(client, headers, profile, ("1", a, "add_to_list"), ("2", b, "add_to_list"), ("3", c, "add_to_list"))
    assert listed(client, headers, profile) == [c, b, a]  # newest first
    rows = page(client, headers, profile)
    assert rows["my_list"] == [c, b, a]
    assert list(rows).index("my_list") == list(rows).index("top_picks") + 1  # right under the pinned rows
    shown = [t for ids in rows.values() for t in ids]
    assert len(shown) == len(set(shown)), "a saved title also shown in another row"

    send(client, headers, profile, ("4", b, "remove_from_list"), ("5", a, "complete"))
    assert listed(client, headers, profile) == [c]
    assert page(client, headers, profile)["my_list"] == [c]


def test_list_of_another_accounts_profile_is_not_found(client: TestClient, signup: Signup) -> None:
    _, profile = signup()
    other, _ = signup()
    assert client.get(f"/v1/profiles/{profile}/list", headers=other).status_code == 404
