"""Abuse at the edge: sign-up floods, slow bodies, text that cannot be encoded, loose types, reused ids."""

from __future__ import annotations

import time

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message

from api import create_app
from api.body import BodyGate, unencodable_field
from engine import Engine
from tests.api.conftest import Signup

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_account_creation_is_limited_per_client_address(engine: Engine) -> None:
    api = engine.settings().api.model_copy(update={"anonymous_per_minute": 3})
    app = create_app(engine.settings().model_copy(update={"api": api}), engine)
    with TestClient(app, client=("10.0.0.1", 1)) as one, TestClient(app, client=("10.0.0.2", 1)) as two:
        codes = [one.post("/v1/accounts", json={}).status_code for _ in range(4)]
        assert codes == [201, 201, 201, 429]
        refused = one.post("/v1/accounts", json={})
        assert refused.json()["error"]["type"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
        assert two.post("/v1/accounts", json={}).status_code == 201  # another address has its own


def test_a_body_that_never_finishes_gets_408() -> None:
    sent: list[Message] = []
    reached = False

    async def app(scope: object, receive: object, send: object) -> None:
        nonlocal reached
        reached = True

    async def receive() -> Message:
        if not sent:
            sent.append({"type": "first"})
            return {"type": "http.request", "body": b'{"na', "more_body": True}
        await anyio.sleep(60)  # the rest never comes
        return {"type": "http.request", "body": b"", "more_body": False}

    out: list[Message] = []

    async def send(message: Message) -> None:
        out.append(message)

    gate = BodyGate(app, limit=1 << 20, timeout_s=0.2)
    scope = {"type": "http", "method": "POST", "headers": [], "path": "/v1/accounts"}
    started = time.monotonic()
    anyio.run(gate, scope, receive, send)
    assert time.monotonic() - started < 30 and not reached
    assert out[0]["status"] == 408 and b"request_timeout" in out[1]["body"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"messages": [{"role": "user", "content": "hi \\ud800"}]}', "messages.0.content"),
        (b'{"name": "\\udc00x"}', "name"),
        (b'{"events": [{"context": {"\\ud83d": "tv"}}]}', "events.0.context.?"),  # the key, printable
        (b'{"ok": "\\ud83d\\ude00", "also": "\\\\ud800"}', None),  # a pair, and an escaped backslash
        (b'{"not json', None),
    ],
)
def test_unencodable_text_is_found_with_its_field(body: bytes, field: str | None) -> None:
    assert unencodable_field(body) == field


def test_lone_surrogates_are_422_everywhere(client: TestClient, signup: Signup) -> None:
    headers, profile = signup()
    cases = [
        ("/v1/accounts", '{"name": "a\\ud800"}', "name"),
        ("/v1/profiles", '{"name": "\\ud800"}', "name"),
        (
            f"/v1/profiles/{profile}/events",
            '{"events": [{"event_id": "e\\udfff", "title_id": 1, "kind": "play"}]}',
            "events.0.event_id",
        ),
        (
            "/v1/chat/completions",
            '{"model": "marquee-offline", "messages": [{"role": "user", "content": "a comedy \\ud800"}]}',
            "messages.0.content",
        ),
    ]
    for path, raw, field in cases:
        r = client.post(path, content=raw, headers=headers | {"Content-Type": "application/json"})
        assert r.status_code == 422, (path, r.text)
        assert r.json()["error"]["field"] == field


def test_ids_are_strict_and_times_sane(client: TestClient, signup: Signup) -> None:
    headers, profile = signup()
    url = f"/v1/profiles/{profile}/events"
    for bad, field in [
        ({"title_id": True}, "events.0.title_id"),
        ({"title_id": "1"}, "events.0.title_id"),
        ({"title_id": 1.0}, "events.0.title_id"),
        ({"ts": 1_099_511_627_776}, "events.0.ts"),  # the year 36,800
        ({"ts": time.time() + 3 * 86_400}, "events.0.ts"),
        ({"value": True}, "events.0.value"),
    ]:
        event = {"event_id": "e-1", "title_id": 1, "kind": "play"} | bad
        r = client.post(url, json={"events": [event]}, headers=headers)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, (bad, r.text)
    sane = {"event_id": "e-2", "title_id": 1, "kind": "play", "ts": 1e9, "value": 3}  # an int value is fine
    ok = client.post(url, json={"events": [sane]}, headers=headers)
    assert ok.status_code == 200 and ok.json()["stored"] == 1
    r = client.post(f"/v1/profiles/{profile}/onboarding", json={"titles": [True]}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["field"] == "titles.0"


def test_a_reused_event_id_with_another_payload_is_409(client: TestClient, signup: Signup) -> None:
    headers, profile = signup()
    url = f"/v1/profiles/{profile}/events"
    event = {"event_id": "e-1", "title_id": 1, "kind": "play"}
    assert client.post(url, json={"events": [event]}, headers=headers).json()["stored"] == 1
    again = client.post(url, json={"events": [event]}, headers=headers)  # a retry: stamped anew, same event
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    other = {"event_id": "e-2", "title_id": 2, "kind": "play"}
    r = client.post(url, json={"events": [other, event | {"title_id": 2}]}, headers=headers)
    assert r.status_code == 409 and r.json()["error"]["field"] == "events.1.title_id"
    assert r.json()["error"]["type"] == "conflict"
    # Refused whole: the new event of that batch was not stored either.
    assert client.post(url, json={"events": [other]}, headers=headers).json()["stored"] == 1
