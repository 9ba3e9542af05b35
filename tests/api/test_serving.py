"""The page cache seen from outside: X-Cache says hit or miss; a write that changes the history drops
the page and rebuilds it in the background, an impression does not."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

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
    # The play dropped both pages and the background is rebuilding them: the next request finds one ready.
    cache, deadline = client.app.state.runtime.cache, time.monotonic() + 60
    while cache.get(profile, (None, None, None)) is None or cache.get(profile, ("tv", None, None)) is None:
        assert time.monotonic() < deadline, "the pages were not rebuilt after the play"
        time.sleep(0.05)
    after = client.get(url, headers=headers)
    assert after.headers["x-cache"] == "hit"
    assert after.json()["rows"][0]["kind"] == "continue_watching"
    assert after.json()["rows"][0]["items"][0]["title_id"] == top["title_id"]
    assert (
        client.post(f"{url[:-5]}/events", json={"events": [play]}, headers=headers).json()["duplicates"] == 1
    )
    assert client.get(url, headers=headers).headers["x-cache"] == "hit"  # a duplicate changes nothing
