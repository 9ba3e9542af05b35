"""Experiments: assignment, team-draft interleaving and credit, the report, and arms served by the engine."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from catalog import Event, EventKind, EventStore, Store
from catalog.pg_events import PostgresStore
from engine import Engine, Row, Settings, assemble, build
from engine.cli import app
from engine.config import ExperimentSettings, parse_arm
from engine.experiments import (
    EXPERIMENTS_FILE,
    INTERLEAVED,
    ServedPage,
    ServedPages,
    assign,
    credit,
    report,
    team_draft,
    wilson,
)

AB = ExperimentSettings(name="rank1", arms=["ranker", "candidate_order"])


# -- assignment -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arms", [["ranker", "candidate_order"], ["control", "diversity_0.3", "diversity_0.6"]]
)
def test_assignment_is_stable_and_balanced(arms: list[str]) -> None:
    experiment = ExperimentSettings(name="exp", arms=arms)
    ids = [f"profile-{i}" for i in range(10_000)]
    first = [assign(experiment, p) for p in ids]
    assert first == [assign(experiment, p) for p in ids]
    counts = Counter(first)
    assert set(counts) == set(arms)
    for arm in arms:
        assert abs(counts[arm] / len(ids) - 1 / len(arms)) <= 0.03, counts
    renamed = [assign(experiment.model_copy(update={"name": "exp2"}), p) for p in ids]
    assert 0.3 < np.mean([a != b for a, b in zip(first, renamed, strict=True)]) < 0.7


def test_no_experiment_assigns_nothing_and_interleaving_assigns_everyone() -> None:
    assert assign(ExperimentSettings(), "p") is None
    both = ExperimentSettings(name="x", mode="interleave", arms=["ranker", "candidate_order"])
    assert {assign(both, f"p{i}") for i in range(50)} == {INTERLEAVED}


def test_experiment_settings_reject_unknown_arms_with_the_valid_ones() -> None:
    with pytest.raises(ValidationError, match="unknown experiment arm 'b'.*candidate_order"):
        ExperimentSettings(name="x", arms=["control", "b"])
    with pytest.raises(ValidationError, match="exactly two arms"):
        ExperimentSettings(name="x", mode="interleave", arms=["control", "ranker", "diversity_0.5"])
    with pytest.raises(ValidationError, match="at least two arms"):
        ExperimentSettings(name="x", arms=["control"])
    assert parse_arm("diversity_0.6").diversity == 0.6
    assert parse_arm("candidate_order").ranker == "candidate_order"
    with pytest.raises(ValueError, match="valid"):
        parse_arm("diversity_2")


# -- team-draft interleaving ----------------------------------------------------------------------------


class Coins:
    """A scripted coin: the team that drafts first in each round."""

    def __init__(self, flips: list[int]) -> None:
        self.flips = iter(flips)

    def integers(self, high: int) -> int:
        assert high == 2
        return next(self.flips)


def test_team_draft_known_answer_and_credit() -> None:
    a, b = [1, 2, 3, 4, 5], [2, 1, 6, 7, 8]
    items, teams = team_draft(a, b, 6, Coins([0, 1, 0]))  # type: ignore[arg-type]
    # Round 1: a drafts 1, b its best unshown (2). Round 2: b first: 6, then a: 3. Round 3: a 4, b 7.
    assert items == [1, 2, 6, 3, 4, 7]
    assert teams == ["a", "b", "b", "a", "a", "b"]
    played = [3, 7, 4, 99]  # 99 was never shown: nobody's credit
    assert credit(dict(zip(items, teams, strict=True)), played) == {"a": 2, "b": 1}


def test_team_draft_with_a_seeded_rng_alternates_without_duplicates() -> None:
    a = list(range(20))
    b = [3, 1, 4, 15, 9, 2, 6, 5, 35, 8, 97, 93, 23, 84, 62, 64, 33, 83, 27, 95]
    items, teams = team_draft(a, b, 12, np.random.default_rng(7), teams=("ranker", "candidate_order"))
    again = team_draft(a, b, 12, np.random.default_rng(7), teams=("ranker", "candidate_order"))
    assert (items, teams) == again
    assert len(items) == 12 and len(set(items)) == 12
    for r in range(0, 12, 2):  # every round, each team contributes exactly one
        assert sorted(teams[r : r + 2]) == ["candidate_order", "ranker"]
    for item, team in zip(items, teams, strict=True):
        # Each team adds its best item not already shown.
        ranking = a if team == "ranker" else b
        shown_before = set(items[: items.index(item)])
        assert item == next(t for t in ranking if t not in shown_before)
    # The coin is fair: over many seeds each team drafts first in about half the rounds.
    rng = np.random.default_rng(1)
    firsts = [team_draft(a, a[::-1], 8, rng)[1][0::2] for _ in range(1000)]
    share = np.mean([t == "a" for round_firsts in firsts for t in round_firsts])
    assert 0.47 < share < 0.53


def test_team_draft_fills_from_the_longer_ranking_and_stops_when_both_run_out() -> None:
    items, teams = team_draft([1, 2], [2, 1, 3, 4], 10, np.random.default_rng(0))
    assert sorted(items) == [1, 2, 3, 4] and len(teams) == 4
    assert teams[-2:] == ["b", "b"]


# -- the report -----------------------------------------------------------------------------------------


def _store(state: Path, counts: dict[str, tuple[int, int]], profiles: int = 10) -> None:
    """impressions and plays per arm, spread over `profiles` profiles per arm."""
    state.mkdir(parents=True, exist_ok=True)
    with EventStore(state / "events.sqlite") as store:
        _fill(store, counts, profiles)


def _fill(store: Store, counts: dict[str, tuple[int, int]], profiles: int = 10) -> None:
    account = store.create_account("exp")
    events = []
    for arm, (impressions, plays) in counts.items():
        ids = [store.create_profile(account.id, f"{arm}{i}").id for i in range(profiles)]
        for i in range(impressions):
            events.append(Event(f"i{i}", ids[i % profiles], i, EventKind.IMPRESSION, ts=i, variant=arm))
        for i in range(plays):
            events.append(Event(f"p{i}", ids[i % profiles], i, EventKind.PLAY, ts=i + 0.5, variant=arm))
    store.append(events)


@pytest.mark.slow
def test_report_reads_the_events_from_postgresql_when_they_are_kept_there(
    tmp_path: Path, postgres_url: str
) -> None:
    with PostgresStore(postgres_url) as store:
        _fill(store, {"ranker": (100, 30), "candidate_order": (80, 12)})
    result = report(tmp_path, AB, database_url=postgres_url)
    arms = result["arms"]
    assert (arms["ranker"]["impressions"], arms["ranker"]["plays"]) == (100, 30)
    assert (arms["candidate_order"]["impressions"], arms["candidate_order"]["plays"]) == (80, 12)
    assert report(tmp_path, AB)["arms"]["ranker"]["impressions"] == 0  # the state folder holds none


def test_report_gives_take_rates_intervals_and_the_difference(tmp_path: Path) -> None:
    _store(tmp_path, {"ranker": (1000, 300), "candidate_order": (800, 120)})
    pages = ServedPages(tmp_path / EXPERIMENTS_FILE)
    for ms, ild in [(10.0, 0.4), (20.0, 0.6)]:
        pages.add(ServedPage("x", "ranker", 0.0, ms, ild, experiment="rank1"))
    pages.add(ServedPage("y", "candidate_order", 0.0, 5.0, 0.2, experiment="rank1"))
    pages.add(ServedPage("z", "ranker", 0.0, 999.0, 0.9, experiment="older"))  # another experiment's
    pages.close()
    result = report(tmp_path, AB)
    ranker, order = result["arms"]["ranker"], result["arms"]["candidate_order"]
    assert (ranker["impressions"], ranker["plays"], ranker["take_rate"]) == (1000, 300, 0.3)
    assert (order["impressions"], order["plays"], order["take_rate"]) == (800, 120, 0.15)
    assert ranker["profiles"] == 11 and order["profiles"] == 11  # 10 with events, 1 served a page
    lo, hi = ranker["take_rate_ci"]
    assert 0.27 < lo < 0.3 < hi < 0.33
    diff = result["differences"]["candidate_order - ranker"]
    assert diff["diff"] == pytest.approx(-0.15)
    assert diff["ci"][0] < -0.15 < diff["ci"][1] < 0  # a clear loss
    assert ranker["mean_latency_ms"] == 15.0 and ranker["mean_ild"] == pytest.approx(0.5)
    assert order["pages"] == 1 and order["mean_latency_ms"] == 5.0


def test_wilson_intervals_cover_the_truth_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(3)
    p, n = 0.12, 400
    covered = 0
    for _ in range(400):
        lo, hi = wilson(int(rng.binomial(n, p)), n) or (0.0, 0.0)
        covered += lo <= p <= hi
    assert 0.92 <= covered / 400 <= 0.98
    assert wilson(0, 0) is None
    lo, hi = wilson(0, 50) or (1.0, 0.0)
    assert lo == pytest.approx(0.0, abs=1e-12) and 0 < hi < 0.1


def test_interleaving_report_counts_wins_losses_and_ties(tmp_path: Path) -> None:
    experiment = ExperimentSettings(name="il", mode="interleave", arms=["ranker", "candidate_order"])
    tmp_path.mkdir(exist_ok=True)
    with EventStore(tmp_path / "events.sqlite") as store:
        account = store.create_account("exp")
        p = [store.create_profile(account.id, f"p{i}").id for i in range(4)]
        teams = {1: "ranker", 2: "candidate_order", 3: "ranker", 4: "candidate_order"}
        plays = {p[0]: [1, 3], p[1]: [2], p[2]: [], p[3]: [1, 2]}  # win, loss, tie, tie
        store.append(
            [
                Event(f"e{t}", profile, t, EventKind.PLAY, ts=10.0, variant=INTERLEAVED)
                for profile, titles in plays.items()
                for t in titles
            ]
        )
    pages = ServedPages(tmp_path / EXPERIMENTS_FILE)
    for profile in p:
        pages.add(ServedPage(profile, INTERLEAVED, 5.0, 1.0, 0.5, experiment="il", teams=teams))
    pages.close()
    result = report(tmp_path, experiment)
    il = result["interleaving"]
    assert (il["wins"], il["losses"], il["ties"]) == (1, 1, 2)
    assert il["share"] == 0.5 and il["share_ci"][0] < 0.5 < il["share_ci"][1]
    assert result["arms"][INTERLEAVED]["plays"] == 5


def test_report_cli_prints_per_arm_figures_and_json(tmp_path: Path) -> None:
    _store(tmp_path / "state" / "ml-latest-small", {"ranker": (100, 30), "candidate_order": (100, 10)})
    env = {
        "MARQUEE_DATA_DIR": str(tmp_path),
        "MARQUEE_STATE_DIR": str(tmp_path / "state"),
        "MARQUEE_EXPERIMENT__NAME": "rank1",
        "MARQUEE_EXPERIMENT__ARMS": '["ranker","candidate_order"]',
    }
    result = CliRunner().invoke(app, ["experiment", "report"], env=env)
    assert result.exit_code == 0, result.output
    assert "ranker: profiles 10, impressions 100, plays 30, take rate 30.00%" in result.stdout
    assert "difference candidate_order - ranker: -20.00%" in result.stdout
    as_json = CliRunner().invoke(app, ["experiment", "report", "--json"], env=env)
    assert '"take_rate": 0.1' in as_json.stdout
    none = CliRunner().invoke(app, ["experiment", "report"], env={**env, "MARQUEE_EXPERIMENT__NAME": ""})
    assert none.exit_code != 0


# -- arms served by the engine (real slice) --------------------------------------------------------------


@pytest.fixture(scope="module")
def engine(small_slice_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    s = Settings(
        data_dir=small_slice_dir,
        artifacts_dir=tmp_path_factory.mktemp("artifacts"),
        state_dir=tmp_path_factory.mktemp("state"),
    )
    build(s, "ml-latest-small")
    eng = assemble(s, "ml-latest-small")
    yield eng
    eng.close()


def _top(rows: list[Row]) -> list[int]:
    return [i.title_id for i in next(r for r in rows if r.kind == "top_picks").items]


@pytest.mark.slow
@pytest.mark.realdata
def test_arms_change_top_picks_without_touching_shared_state(engine: Engine) -> None:
    ranker, builder = engine._parts.stage2.ranker, engine._homepage.builder
    context = engine.context_for(1)
    by_ranker = _top(engine.rows(context, arm="ranker"))
    by_order = _top(engine.rows(context, arm="candidate_order"))
    assert by_ranker != by_order
    assert engine._parts.stage2.ranker is ranker and engine._homepage.builder is builder
    low = engine.rows(context, arm="diversity_0.0")
    high = engine.rows(context, arm="diversity_0.9")
    shared = engine.settings().ranker.trade_off
    assert engine._homepage.builder.weights.trade_off == shared  # the arms' copies leave the shared one be
    assert _top(low) != _top(high)
    pages = ServedPages(engine.settings().dataset_state("ml-latest-small") / EXPERIMENTS_FILE)
    served = {p.arm: p for p in pages.pages()}
    pages.close()
    assert set(served) >= {"ranker", "candidate_order", "diversity_0.0", "diversity_0.9"}
    assert all(p.latency_ms > 0 and 0 <= p.ild <= 2 and p.profile_id == "1" for p in served.values())
    assert served["diversity_0.9"].ild > served["diversity_0.0"].ild


@pytest.mark.slow
@pytest.mark.realdata
def test_interleaved_top_picks_are_team_drafted_from_both_arms(engine: Engine) -> None:
    experiment = ExperimentSettings(name="il", mode="interleave", arms=["ranker", "candidate_order"])
    context = engine.context_for(1)
    by_ranker = set(_top(engine.rows(context, arm="ranker")))
    by_order = set(_top(engine.rows(context, arm="candidate_order")))
    rows = engine.rows(context, arm=INTERLEAVED, experiment=experiment)
    top = next(r for r in rows if r.kind == "top_picks")
    ids = [i.title_id for i in top.items]
    assert len(ids) == len(set(ids))
    teams = [i.reason["team"] for i in top.items]
    assert set(teams) == {"ranker", "candidate_order"}
    for item, team in zip(top.items, teams, strict=True):
        if item.reason.get("source") == "explore":
            continue  # an exploration pick is drawn afresh on each page, so the arm pages need not hold it
        assert item.title_id in (by_ranker if team == "ranker" else by_order)
    everywhere = [i.title_id for r in rows for i in r.items]
    assert len(everywhere) == len(set(everywhere))  # no title twice on the page
    with pytest.raises(ValueError, match="interleave experiment"):
        engine.rows(context, arm=INTERLEAVED)
