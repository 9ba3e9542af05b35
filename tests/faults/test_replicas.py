"""Two `marquee serve` replicas on one machine over one PostgreSQL and one Redis act as one service: what
one acknowledges, the other serves on its next request. Each has a state folder of its own, as on two
machines, so nothing they share goes through a local file. The second replica serves a copy of the Edge
shard the first holds. Slow (two engines load): run with `make test-faults`."""

from __future__ import annotations

from pathlib import Path

import httpx
import psycopg
import pytest

from engine import Settings
from tests.faults.servers import serve, signup

pytestmark = [pytest.mark.faults, pytest.mark.realdata, pytest.mark.slow, pytest.mark.timeout(2400)]


def _rows(url: str, headers: dict[str, str], profile: str) -> list[dict[str, object]]:
    r = httpx.get(f"{url}/v1/profiles/{profile}/rows", headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    rows: list[dict[str, object]] = r.json()["rows"]
    return rows


def _post(url: str, headers: dict[str, str], profile: str, event: dict[str, object]) -> None:
    r = httpx.post(f"{url}/v1/profiles/{profile}/events", json={"events": [event]}, headers=headers)
    assert r.status_code == 200, r.text


def _shown(rows: list[dict[str, object]], kind: str | None = None) -> list[int]:
    return [
        int(i["title_id"])  # type: ignore[index]
        for r in rows
        if kind is None or r["kind"] == kind
        for i in r["items"]  # type: ignore[attr-defined]
    ]


def test_two_replicas_on_one_postgresql_and_redis_act_as_one_service(
    api_settings: Settings, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = {"MARQUEE_DATABASE_URL": postgres_url, "MARQUEE_REDIS_URL": redis_url}
    # A state folder each, as on two machines: nothing they share may go through a local file.
    state_a, state_b = tmp_path / "state-a", tmp_path / "state-b"
    with serve(api_settings, state_a, extra_env=env) as a, serve(api_settings, state_b, extra_env=env) as b:
        # An account and profile made on A work on B.
        headers, profile = signup(a.url)
        assert httpx.get(f"{b.url}/v1/profiles", headers=headers).json()["profiles"][0]["id"] == profile

        # A play acknowledged by A is in B's Continue Watching on B's very next page (B had cached one).
        title = _shown(_rows(b.url, headers, profile), "top_picks")[0]
        _post(a.url, headers, profile, {"event_id": "a-play", "title_id": title, "kind": "play"})
        assert title in _shown(_rows(b.url, headers, profile), "continue_watching")

        # A thumbs-down acknowledged by B is gone from A's very next page.
        disliked = _shown(_rows(a.url, headers, profile), "top_picks")[0]
        _post(b.url, headers, profile, {"event_id": "b-down", "title_id": disliked, "kind": "thumb_down"})
        assert disliked not in _shown(_rows(a.url, headers, profile))

        # A conversation started on A goes on on B without repeating the titles A showed.
        chat = {"model": "marquee-offline", "profile_id": profile}
        first = httpx.post(
            f"{a.url}/v1/chat/completions",
            json={**chat, "messages": [{"role": "user", "content": "a funny movie"}]},
            headers=headers,
            timeout=120,
        ).json()
        conversation = first["marquee"]["conversation_id"]
        shown_on_a = {t["title_id"] for t in first["marquee"]["titles"]}
        more = httpx.post(
            f"{b.url}/v1/chat/completions",
            json={
                **chat,
                "conversation_id": conversation,
                "messages": [{"role": "user", "content": "more like those"}],
            },
            headers=headers,
            timeout=120,
        ).json()
        shown_on_b = {t["title_id"] for t in more["marquee"]["titles"]}
        assert more["marquee"]["conversation_id"] == conversation
        assert shown_on_a and shown_on_b and not shown_on_a & shown_on_b

        # Both replicas count their impressions in the one database the bandits refresh from.
        for server, name in ((a, "a"), (b, "b")):
            impression = {"event_id": f"{name}-seen", "title_id": title, "kind": "impression"}
            _post(server.url, headers, profile, {**impression, "row": "trending", "artwork": "cast"})
    with psycopg.connect(postgres_url) as db:
        counted = db.execute(
            "SELECT policy, sum(failures) FROM beta_counts WHERE arm IN ('trending', 'cast') GROUP BY policy"
        ).fetchall()
    assert dict(counted) == {"rows": 2, "artwork": 4}  # artwork: the title's cell and its segment's pool
    local = {"events.sqlite", "bandits.sqlite", "conversations.sqlite", "experiments.sqlite"}
    assert not [
        path for state in (state_a, state_b) for path in state.rglob("*.sqlite") if path.name in local
    ]
