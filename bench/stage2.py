"""Stage-2 cost on built artifacts: ranker inference per 1,000 candidates, and served `rows()` p50/p99
with the learned pool fusion, with the EASE source and pool quotas instead, and without either (the
pre-EASE stage 1).

    .venv/bin/python bench/stage2.py [--dataset ml-latest-small] [--requests 200]

Needs `marquee build` first. One process, one request at a time; the three configurations run on the same
engine, profiles and machine, in alternation, so the ratio holds under a shared machine's load. Prints
figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from engine import Engine, Settings, assemble  # noqa: E402
from ranker import LTRRanker, Ranker  # noqa: E402
from retrieval import CandidateSet  # noqa: E402

PER = 1000  # candidates per inference figure


def _single_model(ranker: Ranker) -> tuple[Callable[[np.ndarray], np.ndarray], int] | None:
    """What `MARQUEE_RANKER__BAG=1` would serve to whole histories: the bag's first model, whose trees
    come first in the merged model (a bag of one trains exactly that model), and its tree count."""
    full = getattr(ranker, "full", ranker)
    members = getattr(full, "metrics", {}).get("members")
    if not isinstance(full, LTRRanker) or not members:
        return None
    first = full._booster[: members[0]["trees"]]
    return lambda X: first.inplace_predict(X), int(members[0]["trees"])


def _inference(engine: Engine, users: np.ndarray) -> dict[str, list[float]]:
    """ms per 1,000 candidates for the feature matrix and for the trees, over each profile's own pool
    widened to 1,000 titles with the most popular ones (a pool that size is what the target is for);
    with a bag, also the bag's first model alone, timed in turns with the bag (each first every other
    profile: whichever runs second finds the matrix warm)."""
    stage2 = engine._parts.stage2  # a benchmark of the stage's internals, timed one by one
    popular = stage2.stats.ids[np.argsort(-stage2.stats.popularity["all"], kind="stable")]
    single = _single_model(stage2.ranker)
    out: dict[str, list[float]] = {"features": [], "trees": [], "one model": []}
    for i, user in enumerate(users):
        context = engine.context_for(int(user))
        pool = engine.candidates(context)
        extra = popular[~np.isin(popular, pool.ids)][: PER - len(pool)]
        widened = CandidateSet(
            np.concatenate([pool.ids, extra]),
            np.concatenate([pool.scores, np.zeros(len(extra))]),
            pool.provenance + ((),) * len(extra),
        )
        scale = PER / len(widened)
        started = time.perf_counter()
        X = stage2.features.build(context=context, candidates=widened)
        out["features"].append((time.perf_counter() - started) * 1000 * scale)
        scorers = {"trees": stage2.ranker.score} | ({"one model": single[0]} if single else {})
        for name in sorted(scorers, reverse=bool(i % 2)):
            started = time.perf_counter()
            scorers[name](X)
            out[name].append((time.perf_counter() - started) * 1000 * scale)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    settings = Settings()
    engine = assemble(settings, args.dataset)
    users = np.random.default_rng(0).choice(
        sorted(engine.interactions().user_ids().tolist()), size=args.requests, replace=True
    )
    with_ease = list(engine._lists._sources)
    without = [s for s in with_ease if s.name != "ease"]
    quotas, fusion = dict(settings.ranker.quotas), engine._lists._fusion
    configs = {
        "after (learned fusion)": (with_ease, quotas, fusion),
        "EASE + quotas": (with_ease, quotas, None),
        "before (no EASE, RRF cut)": (without, {}, None),
    }
    latencies: dict[str, list[float]] = {name: [] for name in configs}
    for user in users[:5]:  # warm caches: first calls touch cold pages
        engine.rows(engine.context_for(int(user)))
    names = list(configs)
    for i, user in enumerate(users):
        # Each configuration goes first in turn: the first to serve a profile fills its caches (EASE's
        # and the VAE's scores, the neighbours' votes) for those after it.
        for name in names[i % len(names) :] + names[: i % len(names)]:
            sources, q, fused = configs[name]
            engine._lists._sources, engine._lists._fusion = sources, fused
            settings.ranker = settings.ranker.model_copy(update={"quotas": q})
            context = engine.context_for(int(user))
            started = time.perf_counter()
            engine.rows(context)
            latencies[name].append((time.perf_counter() - started) * 1000)
    engine._lists._sources, engine._lists._fusion = with_ease, fusion
    settings.ranker = settings.ranker.model_copy(update={"quotas": quotas})
    cost = _inference(engine, users[: min(len(users), 100)])
    print(f"{args.dataset}: {args.requests} profiles, ranker {engine.health().ranker}")
    single = _single_model(engine._parts.stage2.ranker)
    for part, values in cost.items():
        if not values:
            continue
        if part == "one model" and single:
            part = f"{part} ({single[1]} trees, as MARQUEE_RANKER__BAG=1)"
        print(
            f"  {part:<8} per {PER} candidates: p50 {np.percentile(values, 50):.2f} ms, "
            f"p99 {np.percentile(values, 99):.2f} ms"
        )
    total = np.add(cost["features"], cost["trees"])
    print(
        f"  ranker inference per {PER} candidates (features + trees): p50 {np.percentile(total, 50):.2f} ms"
    )
    if cost["one model"]:
        alone = np.add(cost["features"], cost["one model"])
        print(f"  the same with one model instead of the bag: p50 {np.percentile(alone, 50):.2f} ms")
    base = latencies["before (no EASE, RRF cut)"]
    for name, values in latencies.items():
        p50, p99 = np.percentile(values, 50), np.percentile(values, 99)
        print(
            f"  rows() {name:<27} p50 {p50:6.1f} ms ({p50 / np.percentile(base, 50):.2f}x)  "
            f"p99 {p99:6.1f} ms ({p99 / np.percentile(base, 99):.2f}x)"
        )
    engine.close()


if __name__ == "__main__":
    main()
