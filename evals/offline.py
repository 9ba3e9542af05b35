"""Offline evaluation on a held-out split: baselines and every candidate source, in one run.

Everything is fitted on the split's training part; hyper-parameters are chosen on a second split
carved out of that training part (validation), never on the test users' held-out titles.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from catalog import Context, Dataset, Interactions, load_dataset
from catalog.matrix import UserItemMatrix
from catalog.splitting import Split, make_split, temporal_split
from engine import Settings
from engine.build import content_vectors
from engine.progress import Advance, Reporter, Silent
from engine.ranking import fit_stage_one, period_sources, train_ranker
from engine.ranking import histories as period_histories
from engine.ranking import stage_two as make_stage_two
from evals.baselines import EASE, Fold, ItemKNN, Popular, tune
from evals.beyond import beyond_accuracy, vectors_of
from evals.metrics import evaluate, recall_at
from ranker import BlendWeights
from ranker.pipeline import Stage2
from retrieval import (
    ALSConfig,
    ALSModel,
    CandidateSet,
    merge,
    popularity,
)

TOP = 50  # ranked list length per system (ndcg@10, recall@50 ...)
CANDIDATES = 500  # per source, for stage-1 recall@500

# ALS is tuned by random search (Bergstra & Bengio 2012): ALS_BUDGET seeded draws from this space,
# whose ranges come from exploring validation folds of ml-latest-small and ml-1m.
ALS_SPACE: dict[str, tuple[Any, ...]] = {
    "factors": (16, 32, 64, 128),
    "regularization": (1.0, 3.0, 10.0),
    "alpha": (0.25, 1.0, 4.0, 16.0),
    "weighting": ("binary", "rating"),  # rating: explicit data only
    "half_life_days": (None, 365.0),  # recency decay of confidence: timed data only
}
ALS_BUDGET = 12
EASE_GRID = [{"l2": v} for v in (300.0, 1000.0, 3000.0)]
KNN_GRID = [{"K": k} for k in (20, 50, 200)]


def als_search_space(interactions: Interactions, seed: int) -> list[dict[str, Any]]:
    space = dict(ALS_SPACE)
    if not interactions.explicit:
        space["weighting"] = ("binary",)
    if not interactions.timed:
        space["half_life_days"] = (None,)
    grid = [dict(zip(space, values, strict=True)) for values in itertools.product(*space.values())]
    picks = np.random.default_rng(seed).choice(len(grid), size=min(ALS_BUDGET, len(grid)), replace=False)
    return [grid[i] for i in sorted(picks)]


def validation_folds(split: Split, seed: int) -> list[Fold]:
    """Folds carved from the training part only, shaped like the test protocol.

    Temporal: rolling origin, three global cuts inside the training period (one cut leaves ~20 users on
    ml-latest-small, too few to choose by). Random: one random per-user hold-out of the training part.
    """
    if split.kind == "temporal":
        cuts = [temporal_split(split.train, test_fraction=f) for f in (0.1, 0.2, 0.3)]
    else:
        cuts = [make_split(split.train, split.kind, seed=seed)]
    return [(c.train, c.test) for c in cuts if c.test]


class ALSRanker:
    """ALS as a plain ranker (numpy scores over all items) so it can be tuned like the baselines."""

    name = "als"

    def __init__(self, config: ALSConfig) -> None:
        self.config = config

    def fit(self, train: Interactions) -> ALSRanker:
        self.model = ALSModel.fit(train, self.config)
        self.matrix = self.model.matrix(train)
        return self

    def recommend(
        self, users: Sequence[int], k: int, exclude: Mapping[int, Any] | None = None
    ) -> dict[int, np.ndarray]:
        rows = np.array([self.matrix.row_of(u) for u in users if self.matrix.row_of(u) is not None])
        known = [u for u in users if self.matrix.row_of(u) is not None]
        sub = UserItemMatrix(self.matrix.csr[rows], self.matrix.user_ids[rows], self.matrix.item_ids)
        scores = self.model.user_vectors(sub) @ self.model.item_factors.T
        seen = sub.csr.toarray() > 0
        scores[seen] = -np.inf
        top = np.argsort(-scores, axis=1)[:, :k]
        return {u: self.model.item_ids[t] for u, t in zip(known, top, strict=True)}


def _pipeline(
    stage: Stage2, served: Mapping[int, tuple[Context, CandidateSet]], weights: BlendWeights, advance: Advance
) -> dict[int, np.ndarray]:
    out = {}
    for u, (ctx, cs) in served.items():
        out[u] = stage.top(context=ctx, candidates=cs, k=TOP, weights=weights)
        advance(1)
    return out


def run_eval(
    settings: Settings,
    dataset_name: str,
    split_kind: str,
    *,
    reporter: Reporter | None = None,
    max_users: int | None = None,
    dataset: Dataset | None = None,
    stage_two: bool = True,
    diversity: Sequence[float] = (),
) -> dict[str, Any]:
    """Every system on one split. `stage_two` adds the trained ranker and the served pipeline;
    `diversity` lists extra blend diversity weights for the pipeline's accuracy/diversity trade-off."""
    reporter = reporter or Silent()
    started = time.perf_counter()
    dataset = dataset or load_dataset(dataset_name, settings.data_dir)
    split = make_split(dataset.interactions, split_kind, seed=settings.seed)
    folds = validation_folds(split, settings.seed)
    users = sorted(split.test)
    if max_users is not None and len(users) > max_users:
        users = sorted(np.random.default_rng(settings.seed).choice(users, max_users, replace=False).tolist())
    test = {u: split.test[u] for u in users}

    base = settings.als_config()
    als_grid = als_search_space(dataset.interactions, settings.seed)
    with reporter.stage(
        "Tuning on validation", total=len(als_grid) + len(EASE_GRID) + len(KNN_GRID)
    ) as advance:
        als_params, _ = tune(lambda p: ALSRanker(replace(base, **p)), als_grid, folds, progress=advance)
        ease_params, _ = tune(lambda p: EASE(**p), EASE_GRID, folds, progress=advance)
        knn_params, _ = tune(lambda p: ItemKNN(**p), KNN_GRID, folds, progress=advance)

    rankings: dict[str, dict[int, Sequence[int]]] = {}
    with reporter.stage("Fitting baselines", total=3) as advance:
        for name, model in (
            ("popular", Popular()),
            ("itemknn", ItemKNN(**knn_params)),
            ("ease", EASE(**ease_params)),
        ):
            rankings[name] = model.fit(split.train).recommend(users, TOP)
            advance(1)

    config = replace(base, **als_params)
    als = ALSModel.fit(split.train, config)
    content = content_vectors(settings, dataset, reporter)
    per_source: dict[str, dict[int, list[int]]] = {}
    histories = period_histories(split.train, users)
    now = float(split.cut) if split.cut is not None else 0.0
    merged: dict[int, list[int]] = {}
    served: dict[int, tuple[Context, CandidateSet]] = {}
    per_source_k = settings.ranker.candidates_per_source
    with (
        period_sources(settings, dataset, split.train, als, content, trending_now=split.cut) as sources,
        reporter.stage("Querying candidate sources", total=len(users)) as advance,
    ):
        for u in users:
            context = Context(profile_id=str(u), history=histories[u], now=now)
            lists = [s.candidates(context=context, k=CANDIDATES) for s in sources]
            for source, found in zip(sources, lists, strict=True):
                per_source.setdefault(source.name, {})[u] = [c.title_id for c in found]
            merged[u] = merge(lists).ids[:CANDIDATES].tolist()
            # What serving merges: each source's first `per_source_k` (a prefix of the same query).
            served[u] = (
                context,
                merge([found[:per_source_k] for found in lists]).top(settings.ranker.candidates),
            )
            advance(1)

    pop = popularity(split.train)
    n_train_users = len(split.train.user_ids())
    item_popularity = {t: c / n_train_users for t, c in pop.items()}
    for name in ("als", "content"):
        rankings[name] = {u: ids[:TOP] for u, ids in per_source[name].items()}
    trade_off: list[dict[str, float]] = []
    ranker_info: dict[str, Any] = {}
    vectors = vectors_of(dataset, content)
    if stage_two:
        ranker = train_ranker(settings, dataset, split.train, content, reporter=reporter, als_config=config)
        one = fit_stage_one(settings, dataset, split.train, content, als=als)
        stage = make_stage_two(settings, dataset, one, content, ranker)
        rankings["ranker"] = {
            u: cs.ids[np.argsort(-stage.relevance(context=ctx, candidates=cs), kind="stable")][:TOP]
            for u, (ctx, cs) in served.items()
        }
        with reporter.stage(
            "Pipeline (blend + diversity)", total=len(served) * (1 + len(diversity))
        ) as advance:
            rankings["pipeline"] = _pipeline(stage, served, stage.weights, advance)
            for w in diversity:
                ranked = _pipeline(stage, served, replace(stage.weights, diversity=w), advance)
                figures = evaluate(
                    ranked, test, item_popularity=item_popularity, n_catalog=len(dataset.titles)
                )
                trade_off.append({"diversity": w, **figures, **beyond_accuracy(ranked, vectors, pop)})
        ranker_info = {"objective": ranker.config.objective, **ranker.metrics}
    systems = {
        name: {
            **evaluate(ranked, test, item_popularity=item_popularity, n_catalog=len(dataset.titles)),
            **beyond_accuracy(ranked, vectors, pop),
        }
        for name, ranked in rankings.items()
    }
    return {
        "dataset": dataset_name,
        "split": split_kind,
        "users": len(users),
        "excluded_users": split.excluded_users,
        "train_interactions": len(split.train),
        "systems": systems,
        "candidates": {
            f"recall@{CANDIDATES}": recall_at(merged, test, CANDIDATES),
            "per_source": {name: recall_at(lists, test, CANDIDATES) for name, lists in per_source.items()},
        },
        "tuned": {"als": {**asdict(config)}, "ease": ease_params, "itemknn": knn_params},
        "ranker": ranker_info,
        "diversity_sweep": trade_off,
        "seconds": round(time.perf_counter() - started, 1),
    }
