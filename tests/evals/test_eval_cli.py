"""`marquee eval`: which splits it accepts, and the table it prints (figures with users, intervals, tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import evals.cli
from engine.cli import app

runner = CliRunner()


def _result(split: str) -> dict[str, Any]:
    figures = {"ndcg@10": 0.1, "recall@10": 0.1, "recall@50": 0.2, "map@10": 0.05}
    test = {"ratio": 1.02, "difference": 0.002, "difference_ci": [-0.001, 0.005], "p_value": 0.3}
    return {
        "dataset": "ml-latest-small",
        "split": split,
        "users": 591,
        "excluded_users": 0,
        "seconds": 1.0,
        "systems": {"ease": figures, "pipeline": figures},
        "significance": {
            "ndcg@10_ci": {"ease": [0.09, 0.11], "pipeline": [0.09, 0.11]},
            "best_single": "ease",
            "against_best": {"pipeline": test},
        },
        "candidates": {
            "pool_size": 300,
            "pooling": "learned fusion",
            "pool": 0.7,
            "fused": {"recall@300": 0.6, "recall@500": 0.65},
            "per_source": {"ease": {"recall@300": 0.68, "recall@500": 0.72}},
        },
        "tuned": {},
        "ranker": {},
        "diversity_sweep": [],
        "stage_seconds": {"Tuning on validation": 1.0},
        "cold": {
            "users with <= 5 training interactions": {"users": 0},
            "new profiles with 3 titles": {
                "users": 300,
                "ndcg@10": {"popular": 0.05, "pipeline": 0.08},
                "ndcg@10_ci": {"popular": [0.04, 0.06], "pipeline": [0.07, 0.09]},
                "pipeline_against": {"popular": {**test, "ratio": 1.6, "p_value": 0.001}},
            },
        },
    }


@pytest.mark.parametrize("split", ["user-temporal", "random", "temporal"])
def test_every_split_kind_is_accepted(split: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    asked: list[str] = []

    def fake(settings: object, name: str, kind: str, **_: object) -> dict[str, Any]:
        asked.append(kind)
        return _result(kind)

    monkeypatch.setattr(evals.cli, "run_eval", fake)
    env = {"MARQUEE_ARTIFACTS_DIR": str(tmp_path)}
    result = runner.invoke(app, ["eval", "--split", split], env=env)
    assert result.exit_code == 0, result.output
    assert asked == [split]
    out = result.stdout
    assert "591 test users" in out and "[0.0900, 0.1100]" in out
    assert "pipeline vs best single (ease)" in out and "p=0.3 (NOT significant at 0.05)" in out
    assert "users with <= 5 training interactions: no such test users" in out
    assert "new profiles with 3 titles (300 users)" in out and "pipeline vs popular 1.60x p=0.001" in out
    assert "served pool" in out and "seconds per stage: Tuning on validation 1.0" in out


def test_an_unknown_split_names_the_valid_ones() -> None:
    result = runner.invoke(app, ["eval", "--split", "weekly"])
    assert result.exit_code == 2
    assert "unknown split 'weekly'; valid: random, temporal, user-temporal" in result.stderr
