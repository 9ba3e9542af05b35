"""`marquee eval`: plugged into the engine's CLI through the `marquee.commands` entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from catalog import load_dataset
from catalog.splitting import SPLIT_KINDS
from engine import Bars, Manifest, checked_dataset, clean_errors, fail
from engine import settings_from_env as settings
from evals.offline import run_eval
from evals.redial import register as register_redial
from evals.search_profiles import register as register_search
from evals.shilling import run_shilling
from evals.shilling import table as shilling_table


def register(app: typer.Typer) -> None:
    register_redial(app)  # `marquee eval-redial`, beside `marquee eval`
    register_search(app)

    @app.command("eval")
    @clean_errors
    def eval_command(
        dataset: Annotated[str, typer.Option("--dataset", "-d")] = "ml-latest-small",
        split: Annotated[
            str | None,
            typer.Option(
                help="user-temporal (default), random (default for ml-1m) or temporal (one global cut)"
            ),
        ] = None,
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
        kind = split or ("random" if name == "ml-1m" else "user-temporal")
        if kind not in SPLIT_KINDS:
            raise fail(f"unknown split {kind!r}; valid: {', '.join(SPLIT_KINDS)}")
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
    n = result["users"]
    sig = result["significance"]
    lines = [
        f"{result['dataset']} ({result['split']} split): {n} test users, "
        f"{result['excluded_users']} excluded, {result['seconds']} s",
        f"{'system':<14}" + "".join(f"{m:>13}" for m in metrics) + f"{'ndcg@10 95% CI':>20}",
    ]
    for name, figures in result["systems"].items():
        lo, hi = sig["ndcg@10_ci"][name]
        lines.append(
            f"{name:<14}"
            + "".join(f"{figures.get(m, float('nan')):>13.4f}" for m in metrics)
            + f"{f'[{lo:.4f}, {hi:.4f}]':>20}"
        )
    best = sig["best_single"]
    for name, test in sig["against_best"].items():
        lo, hi = test["difference_ci"]
        verdict = "significant" if test["p_value"] < 0.05 else "NOT significant"
        lines.append(
            f"{name} vs best single ({best}), ndcg@10 over the same {n} users: {test['ratio']:.3f}x, "
            f"difference {test['difference']:+.4f} [{lo:+.4f}, {hi:+.4f}], "
            f"paired t-test p={test['p_value']:.2g} ({verdict} at 0.05)"
        )
    c = result["candidates"]
    size = c["pool_size"]
    per_source = ", ".join(
        f"{k} {v[f'recall@{size}']:.3f}/{v['recall@500']:.3f}" for k, v in c["per_source"].items()
    )
    lines.append(
        f"candidate recall@{size}/@500: served pool ({json.dumps(c['pooling'])}) {c['pool']:.3f}/-, "
        f"fused RRF {c['fused'][f'recall@{size}']:.3f}/{c['fused']['recall@500']:.3f}; "
        f"per source: {per_source}"
    )
    for slice_name, figures in result.get("cold", {}).items():
        lines.append(_cold_line(slice_name, figures))
    lines.append(f"tuned on validation: {json.dumps(result['tuned'])}")
    if result.get("ranker"):
        lines.append(f"ranker: {json.dumps(result['ranker'])}")
    if result.get("diversity_sweep"):
        lines.append("pipeline diversity sweep (weight: ndcg@10, ild@10, long_tail@10, coverage):")
        for row in result["diversity_sweep"]:
            lines.append(
                f"  {row['diversity']:.2f}: {row['ndcg@10']:.4f}, {row['ild@10']:.4f}, "
                f"{row['long_tail@10']:.4f}, {row['coverage']:.4f}"
            )
    lines.append("seconds per stage: " + ", ".join(f"{k} {v}" for k, v in result["stage_seconds"].items()))
    return "\n".join(lines)


def _cold_line(name: str, figures: dict[str, Any]) -> str:
    if not figures.get("users"):
        return f"cold slice, {name}: no such test users on this split"
    ci = figures["ndcg@10_ci"]
    systems = ", ".join(
        f"{system} {value:.4f} [{ci[system][0]:.4f}, {ci[system][1]:.4f}]"
        for system, value in figures["ndcg@10"].items()
    )
    versus = "; ".join(
        f"pipeline vs {other} {t['ratio']:.2f}x p={t['p_value']:.2g}"
        for other, t in figures.get("pipeline_against", {}).items()
    )
    return f"cold slice, {name} ({figures['users']} users) ndcg@10: {systems}; {versus}"


def _record(folder: Path, result: dict[str, Any]) -> None:
    """Keep the figures in the artifacts manifest, when artifacts of the same data exist."""
    try:
        manifest = Manifest.read(folder)
    except (OSError, ValueError):
        return
    manifest.metrics[f"{result['split']}"] = result
    manifest.write(folder)
