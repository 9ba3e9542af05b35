"""`marquee eval-redial` on tiny synthetic ReDial files over the session engine: which points count,
the figures, the significance test, and the command's handling of bad arguments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from catalog.redial import load_redial, parse_dialogue
from engine import Engine
from engine.cli import app
from evals.redial import Point, Scored, figures, mcnemar, points_of, run_redial_eval
from tests.redial_data import RECOMMENDER, SEEKER, dialogue, write_redial


def test_a_point_is_each_recommender_movie_not_named_before() -> None:
    raw = dialogue(
        1,
        [
            (SEEKER, "I loved @11"),
            (RECOMMENDER, "try @22 and @33"),
            (SEEKER, "seen @22 already"),
            (RECOMMENDER, "then @44 or @22"),
        ],
        {11: "A (2001)", 22: "B (2002)", 33: "C (2003)", 44: "D (2004)"},
    )
    to_catalog = {11: 1, 22: 2, 44: 4}  # 33 is not in the catalog: no point for it
    points = points_of([parse_dialogue(raw)], to_catalog)
    assert [(p.target, set(p.mentioned), len(p.turns)) for p in points] == [(2, {1}, 1), (4, {1, 2}, 3)]
    assert points[1].turns == (
        ("user", "I loved A (2001)"),
        ("assistant", "try B (2002) and C (2003)"),
        ("user", "seen B (2002) already"),
    )


def test_recall_intervals_and_mcnemar_on_known_hits() -> None:
    points = [Point("d", (), target, frozenset()) for target in (1, 2, 3, 4)]
    scored = Scored([[1], [9, 2], [9] * 10 + [3], []])  # hit at 1, at 2, at 11, never
    f = figures(points, scored, np.random.default_rng(0))
    assert (f["points"], f["recall@1"], f["recall@10"], f["recall@50"]) == (4, 0.25, 0.5, 0.75)
    low, high = f["recall@10_ci95"]
    assert 0.0 <= low <= 0.5 <= high <= 1.0
    a = np.array([True] * 12 + [False] * 8)
    b = np.array([False] * 12 + [True] * 2 + [False] * 6)
    test = mcnemar(a, b)
    assert (test["only_assistant"], test["only_peer"]) == (12, 2)
    assert test["p_value"] < 0.05
    assert mcnemar(a, a)["p_value"] == 1.0


def _distinct_titles(engine: Engine) -> tuple[list[int], dict[int, int]]:
    """Titles with long, unique names (found in text without cues), least watched first, and counts."""
    items, counts = np.unique(engine.interactions().items, return_counts=True)
    watched = dict(zip(items.tolist(), counts.tolist(), strict=True))
    names = [t.name.lower() for t in engine.titles().values()]
    long = [t.id for t in engine.titles().values() if len(t.name) > 20 and names.count(t.name.lower()) == 1]
    return sorted(long, key=lambda t: (watched.get(t, 0), t)), watched


@pytest.fixture(scope="module")
def redial_points(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    """Forty dialogues where every seeker loves one well-known title and the recommender answers with
    the same obscure one: co-mentions learned on the train fold must find it on validation."""
    ranked, _ = _distinct_titles(engine)
    liked, suggested = ranked[-1], ranked[0]
    titles = engine.titles()
    names = {1: titles[liked].display_name, 2: titles[suggested].display_name}
    lines = [
        dialogue(cid, [(SEEKER, "Hi! I loved @1 so much"), (RECOMMENDER, "You should see @2")], names)
        for cid in range(40)
    ]
    root = tmp_path_factory.mktemp("redial")
    write_redial(root, lines, {1: (liked, names[1]), 2: (suggested, names[2])})
    return root, liked, suggested


def test_the_assistant_finds_what_recommenders_suggest_and_peers_do_not(
    engine: Engine, redial_points
) -> None:
    root, _, suggested = redial_points
    result = run_redial_eval(engine.settings(), "ml-latest-small", redial=load_redial(root), engine=engine)
    systems = result["systems"]
    assert systems["assistant"]["points"] == 6  # 15% of 40 validation dialogues, one point each
    assert systems["assistant"]["recall@1"] == 1.0
    assert systems["popularity"]["recall@1"] == 0.0  # the suggestion is the least watched title
    assert result["best_peer"] in systems and result["mcnemar@10"]["only_assistant"] >= 0
    assert result["ablation"]["without comention"] <= result["ablation"]["all"]


def test_the_command_names_a_bad_split_and_limit(tmp_path: Path) -> None:
    runner = CliRunner()
    bad_split = runner.invoke(app, ["eval-redial", "--split", "test"])
    assert bad_split.exit_code == 2
    assert "unknown split 'test'; valid: train, valid" in bad_split.output
    bad_limit = runner.invoke(app, ["eval-redial", "--limit", "0"])
    assert bad_limit.exit_code == 2 and "--limit" in bad_limit.output
    no_files = runner.invoke(app, ["eval-redial"], env={"MARQUEE_DATA_DIR": str(tmp_path)})
    assert no_files.exit_code == 2 and "redial" in no_files.output
