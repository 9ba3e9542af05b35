"""Experiments through the API: arms on rows and on stored events, team-drafted Top Picks, and
`marquee experiment report` computed from what the API was sent.

Each test serves the session engine's index and models with an event store, bandits and experiment log
of its own, so the report sees only this test's traffic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import create_app
from engine import Engine, Settings, over_state
from engine.cli import app as cli
from engine.config import ExperimentSettings
from engine.experiments import INTERLEAVED, assign

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
DATASET = "ml-latest-small"


@pytest.fixture
def own_state(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """The session engine's loaded parts over an empty state folder."""
    with over_state(engine, engine.settings().model_copy(update={"state_dir": tmp_path / "state"})) as eng:
        yield eng


def _client(eng: Engine, experiment: ExperimentSettings) -> tuple[TestClient, Settings]:
    settings = eng.settings().model_copy(update={"experiment": experiment})
    return TestClient(create_app(settings, eng)), settings


def _report(settings: Settings) -> dict[str, Any]:
    experiment = settings.experiment
    env = {
        "MARQUEE_DATA_DIR": str(settings.data_dir),
        "MARQUEE_STATE_DIR": str(settings.state_dir),
        "MARQUEE_EXPERIMENT__NAME": experiment.name or "",
        "MARQUEE_EXPERIMENT__MODE": experiment.mode,
        "MARQUEE_EXPERIMENT__ARMS": json.dumps(experiment.arms),
    }
    result = CliRunner().invoke(cli, ["experiment", "report", "--json"], env=env)
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _top_picks(page: dict[str, Any]) -> list[dict[str, Any]]:
    return next(r for r in page["rows"] if r["kind"] == "top_picks")["items"]


def _shown(item: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "event_id": f"i{n}",
        "title_id": item["title_id"],
        "kind": "impression",
        "row": "top_picks",
        "artwork": item["artwork"]["variant"],
    }


def _played(item: dict[str, Any], n: int) -> dict[str, Any]:
    return {"event_id": f"p{n}", "title_id": item["title_id"], "kind": "play", "row": "top_picks"}


def test_ab_arms_are_served_recorded_and_reported(own_state: Engine) -> None:
    experiment = ExperimentSettings(name="api-ab", arms=["control", "candidate_order"])
    client, settings = _client(own_state, experiment)
    plays_per_profile = {"control": 2, "candidate_order": 1}
    with client:
        headers = {"X-API-Key": client.post("/v1/accounts", json={}).json()["api_key"]}
        by_arm: dict[str, list[str]] = {"control": [], "candidate_order": []}
        n = 0
        while min(len(v) for v in by_arm.values()) < 3:  # hashing decides; both arms fill up quickly
            n += 1
            assert n < 60, by_arm
            profile = client.post("/v1/profiles", json={"name": f"p{n}"}, headers=headers).json()["id"]
            r = client.get(f"/v1/profiles/{profile}/rows", headers=headers)
            page = r.json()
            assert r.status_code == 200 and page["variant"] == assign(experiment, profile)
            top = _top_picks(page)[:5]
            arm = page["variant"]
            by_arm[arm].append(profile)
            events = [_shown(item, i) for i, item in enumerate(top)]
            events += [_played(item, i) for i, item in enumerate(top[: plays_per_profile[arm]])]
            stored = client.post(f"/v1/profiles/{profile}/events", json={"events": events}, headers=headers)
            assert stored.json()["stored"] == len(events)
            assert {e.variant for e in own_state.events(profile)} == {arm}  # the arm is on every event
    report = _report(settings)
    assert report["experiment"] == "api-ab" and report["mode"] == "ab"
    for arm, profiles in by_arm.items():
        figures = report["arms"][arm]
        impressions, plays = 5 * len(profiles), plays_per_profile[arm] * len(profiles)
        assert (figures["impressions"], figures["plays"]) == (impressions, plays)
        assert figures["take_rate"] == pytest.approx(plays / impressions)
        lo, hi = figures["take_rate_ci"]
        assert lo < plays / impressions < hi
        assert figures["profiles"] == len(profiles) and figures["pages"] == len(profiles)
        assert figures["mean_latency_ms"] > 0 and 0 < figures["mean_ild"] <= 2
    difference = report["differences"]["candidate_order - control"]
    assert difference["diff"] == pytest.approx(0.2 - 0.4)


def test_interleaved_top_picks_name_their_arm_and_the_report_scores_them(own_state: Engine) -> None:
    experiment = ExperimentSettings(name="api-il", mode="interleave", arms=["ranker", "candidate_order"])
    client, settings = _client(own_state, experiment)
    # Per profile, how many Top Picks of each arm it plays: a win, a loss, two ties.
    plans = [{"ranker": 2, "candidate_order": 0}, {"ranker": 0, "candidate_order": 1}]
    plans += [{"ranker": 1, "candidate_order": 1}, {"ranker": 0, "candidate_order": 0}]
    impressions = 0
    with client:
        headers = {"X-API-Key": client.post("/v1/accounts", json={}).json()["api_key"]}
        for n, plan in enumerate(plans):
            profile = client.post("/v1/profiles", json={"name": f"p{n}"}, headers=headers).json()["id"]
            page = client.get(f"/v1/profiles/{profile}/rows", headers=headers).json()
            assert page["variant"] == INTERLEAVED
            top = _top_picks(page)
            teams = [item["reason"]["team"] for item in top]
            assert set(teams) == {"ranker", "candidate_order"}  # drafted from both arms
            everywhere = [i["title_id"] for row in page["rows"] for i in row["items"]]
            assert len(everywhere) == len(set(everywhere))  # no title twice on the page
            events = [_shown(item, i) for i, item in enumerate(top)]
            for arm, count in plan.items():
                events += [_played(item, i) for i, item in enumerate(top) if item["reason"]["team"] == arm][
                    :count
                ]
            impressions += len(top)
            r = client.post(f"/v1/profiles/{profile}/events", json={"events": events}, headers=headers)
            assert r.status_code == 200, r.text
            assert {e.variant for e in own_state.events(profile)} == {INTERLEAVED}
    report = _report(settings)
    figures = report["arms"][INTERLEAVED]
    assert (figures["impressions"], figures["plays"], figures["pages"]) == (impressions, 5, len(plans))
    interleaving = report["interleaving"]
    assert (interleaving["arm"], interleaving["against"]) == ("ranker", "candidate_order")
    assert (interleaving["wins"], interleaving["losses"], interleaving["ties"]) == (1, 1, 2)
    assert interleaving["share"] == 0.5
