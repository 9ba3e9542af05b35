"""`marquee eval`: plugged into the engine's CLI through the `marquee.commands` entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from catalog import load_dataset
from engine.artifacts import Manifest
from engine.commands import checked_dataset, clean_errors, fail, settings
from engine.progress import Bars
from evals.offline import run_eval
from evals.redial import register as register_redial
from evals.search_profiles import register as register_search
from evals.shilling import run_shilling
from evals.shilling import table as shilling_table

SPLITS = ("random", "temporal")


def register(app: typer.Typer) -> None:
    register_redial(app)  # `marquee eval-redial`, beside `marquee eval`
    register_search(app)

    @app.command("eval")
    @clean_errors
    def eval_command(
        dataset: Annotated[str, typer.Option("--dataset", "-d")] = "ml-latest-small",
        split: Annotated[str | None, typer.Option(help="temporal (default when timed) or random")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
        max_users: Annotated[
            int | None, typer.Option(min=10, help="evaluate a seeded sample of users")
        ] = None,
        diversity: Annotated[
            list[float] | None,
            typer.Option(
                "--diversity", min=0.0, max=1.0, help="pipeline diversity weight to sweep (repeatable)"
            ),
        ] = None,
    ) -> None:
        """Evaluate baselines and candidate sources on a held-out split."""
        s = settings()
        name = checked_dataset(dataset)
        kind = split or ("random" if name == "ml-1m" else "temporal")
        if kind not in SPLITS:
            raise fail(f"unknown split {kind!r}; valid: {', '.join(SPLITS)}")
        with Bars() as bars:
            result = run_eval(s, name, kind, reporter=bars, max_users=max_users, diversity=diversity or ())
        _record(s.dataset_artifacts(name), result)
        print(json.dumps(result) if as_json else _table(result))

    @app.command("eval-shilling")
    @clean_errors
    def eval_shilling_command(
        dataset: Annotated[str, typer.Option("--dataset", "-d")] = "ml-latest-small",
        title: Annotated[
            int | None, typer.Option(help="the title to push (default: a seeded unpopular one)")
        ] = None,
        rates: Annotated[
            list[float] | None,
            typer.Option("--rate", min=0.001, max=0.5, help="fake share of users (repeatable)"),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    ) -> None:
        """Inject fake profiles pushing one title; its lift in Trending and Top Picks with and without the
        shilling defence, and the defence's false positives."""
        s = settings()
        name = checked_dataset(dataset)
        if title is not None:
            known = load_dataset(name, s.data_dir).titles
            if title not in known:
                raise fail(f"unknown title {title} in {name}; see `marquee titles` or movies.csv for ids")
        result = run_shilling(s, name, rates=tuple(rates or (0.01, 0.03, 0.05)), target=title, seed=s.seed)
        print(json.dumps(result) if as_json else shilling_table(result))


def _table(result: dict[str, Any]) -> str:
    """The figures as a fixed-width table for people; --json is for machines."""
    metrics = ("ndcg@10", "recall@10", "recall@50", "map@10", "coverage", "novelty", "ild@10", "long_tail@10")
    lines = [
        f"{result['dataset']} ({result['split']} split): {result['users']} test users, "
        f"{result['excluded_users']} excluded, {result['seconds']} s",
        f"{'system':<10}" + "".join(f"{m:>13}" for m in metrics),
    ]
    for name, figures in result["systems"].items():
        lines.append(f"{name:<10}" + "".join(f"{figures.get(m, float('nan')):>13.4f}" for m in metrics))
    candidates = result["candidates"]
    per_source = ", ".join(f"{k} {v:.3f}" for k, v in candidates["per_source"].items())
    lines.append(f"candidates recall@500: merged {candidates['recall@500']:.3f}; per source: {per_source}")
    lines.append(f"tuned on validation: {json.dumps(result['tuned'])}")
    if result.get("diversity_sweep"):
        lines.append("pipeline diversity sweep (weight: ndcg@10, ild@10, long_tail@10, coverage):")
        for row in result["diversity_sweep"]:
            lines.append(
                f"  {row['diversity']:.2f}: {row['ndcg@10']:.4f}, {row['ild@10']:.4f}, "
                f"{row['long_tail@10']:.4f}, {row['coverage']:.4f}"
            )
    return "\n".join(lines)


def _record(folder: Path, result: dict[str, Any]) -> None:
    """Keep the figures in the artifacts manifest, when artifacts of the same data exist."""
    try:
        manifest = Manifest.read(folder)
    except (OSError, ValueError):
        return
    manifest.metrics[f"{result['split']}"] = result
    manifest.write(folder)
