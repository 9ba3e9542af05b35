"""The page cache seen from outside: X-Cache says hit or miss; a write that changes the history drops
the page or rebuilds it before it is acknowledged, an impression does not."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import Engine
from tests.api.conftest import Signup

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_pages_are_cached_until_the_history_changes(client: TestClient, signup: Signup) -> None:
    headers, profile = signup()
    url = f"/v1/profiles/{profile}/rows"
    first = client.get(url, headers=headers)
    assert first.headers["x-cache"] == "miss"
    again = client.get(url, headers=headers)
    assert again.headers["x-cache"] == "hit" and again.json() == first.json()
    assert client.get(url, params={"device": "tv"}, headers=headers).headers["x-cache"] == "miss"
    top = next(r for r in first.json()["rows"] if r["kind"] == "top_picks")["items"][0]
    seen = {"event_id": "i1", "title_id": top["title_id"], "kind": "impression", "row": "top_picks"}
    assert client.post(f"{url[:-5]}/events", json={"events": [seen]}, headers=headers).status_code == 200
    assert client.get(url, headers=headers).headers["x-cache"] == "hit"  # an impression changes no history
    play = {"event_id": "p1", "title_id": top["title_id"], "kind": "play"}
    assert client.post(f"{url[:-5]}/events", json={"events": [play]}, headers=headers).status_code == 200
    after = client.get(url, headers=headers)
    assert after.headers["x-cache"] == "hit"  # rebuilt by the play's request, before it was acknowledged
    assert after.json()["rows"][0]["kind"] == "continue_watching"
    assert after.json()["rows"][0]["items"][0]["title_id"] == top["title_id"]
    on_tv = client.get(url, params={"device": "tv"}, headers=headers)  # every cached page was rebuilt
    assert on_tv.headers["x-cache"] == "hit" and on_tv.json()["rows"][0]["kind"] == "continue_watching"
    assert (
        client.post(f"{url[:-5]}/events", json={"events": [play]}, headers=headers).json()["duplicates"] == 1
    )
    assert client.get(url, headers=headers).headers["x-cache"] == "hit"  # a duplicate changes nothing


def test_a_page_that_fails_to_rebuild_does_not_fail_the_write(
    client: TestClient, signup: Signup, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers, profile = signup()
    url = f"/v1/profiles/{profile}/rows"
    first = client.get(url, headers=headers).json()
    title = next(r for r in first["rows"] if r["kind"] == "top_picks")["items"][0]["title_id"]
    calls = []

    def broken_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("ranker blew up")
        return Engine.rows(engine, *args, **kwargs)

    monkeypatch.setattr(engine, "rows", broken_once)
    play = {"event_id": "p1", "title_id": title, "kind": "play"}
    stored = client.post(f"/v1/profiles/{profile}/events", json={"events": [play]}, headers=headers)
    assert stored.status_code == 200 and stored.json()["stored"] == 1 and calls == [1]
    after = client.get(url, headers=headers)  # the old page was dropped, not served after the write
    assert after.headers["x-cache"] == "miss" and after.json()["rows"][0]["kind"] == "continue_watching"
