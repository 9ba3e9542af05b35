"""Offline evaluation on a held-out split: baselines and every candidate source, in one run.

Everything is fitted on the split's training part; hyper-parameters are chosen on a second split
carved out of that training part (validation), never on the test users' held-out titles.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from catalog import Context, Dataset, History, Interactions, load_dataset
from catalog.matrix import UserItemMatrix
from catalog.splitting import Split, make_split, temporal_split
from engine import (
    Advance,
    Reporter,
    Settings,
    Silent,
    candidate_pool,
    content_vectors,
    fit_now,
    fit_stage_one,
    onboarded_history,
    period_histories,
    period_sources,
    right_after,
    source_k,
    train_ranker,
)
from engine import stage_two as make_stage_two
from evals.baselines import EASE, Fold, ItemKNN, MultVAE, Popular, tune
from evals.beyond import beyond_accuracy, vectors_of
from evals.metrics import evaluate, interval, paired_test, per_user, recall_at
from evals.sequential import SASRec
from ranker import BlendWeights
from ranker.pipeline import Stage2
from retrieval import (
    ALS_KIND,
    CONTENT_KIND,
    ALSConfig,
    ALSModel,
    CandidateSet,
    EASEConfig,
    EASEModel,
    merge,
    popularity,
)

TOP = 50  # ranked list length per system (ndcg@10, recall@50 ...)
CANDIDATES = 500  # per source, for stage-1 recall@500
ONBOARDED = 3  # titles a brand-new profile picks at sign-up, in the cold slice
COLD_HISTORY = 5  # test users with at most this many training interactions form the cold-user slice
COLD_SAMPLE = 300  # test users whose first ONBOARDED titles make the new-profile slice
# The single systems stage 2 must beat; sasrec only on SEQUENTIAL_SPLITS (a random hold-out has no "next").
SINGLE = ("popular", "itemknn", "ease", "vae", "als", "content", "sasrec")
SEQUENTIAL_SPLITS = ("user-temporal", "temporal")
STAGE_TWO = ("ranker", "pipeline@div0", "pipeline")  # relevance only; the blend without MMR; as served

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
# SASRec's training length, the knob that moved validation NDCG@10 most per second of CPU (ml-latest-small:
# 0.084 at 15 epochs, 0.084-0.096 at 25-40); two points keep its tuning and fit near 90 s on two cores.
SASREC_GRID = [{"epochs": e} for e in (15, 30)]


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


def served_at(split: Split) -> float:
    """The period's clock: the time cut, or (per-user hold-outs) the training part's last interaction, as
    `train_ranker` sets it for its own inner split. Trending is counted back from it, and a profile
    without a timed history is served at it (a timed one right after its own last title). 0 had put
    every time feature (title age, days since the last title) in 1970 while the ranker trained on real
    dates."""
    return float(split.cut) if split.cut is not None else fit_now(split.train)


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


class _Clock:
    """Each reporter stage, timed: the eval prints where its minutes go."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Advance]:
        started = time.perf_counter()
        with self.reporter.stage(name, total=total) as advance:
            yield advance
        self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - started, 1)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """For steps that report their own stages (embedding, ranker training)."""
        started = time.perf_counter()
        yield
        self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - started, 1)


def _pipeline(
    stage: Stage2,
    served: Mapping[int, tuple[Context, CandidateSet]],
    weights: BlendWeights,
    advance: Advance,
    relevance: Mapping[int, np.ndarray] | None = None,
) -> dict[int, np.ndarray]:
    """The served list per user; `relevance` reuses the ranker's scores when they are already known."""
    out = {}
    for u, (ctx, cs) in served.items():
        known = None if relevance is None else relevance[u]
        out[u] = stage.top(context=ctx, candidates=cs, k=TOP, weights=weights, relevance=known)
        advance(1)
    return out


def _by_relevance(
    served: Mapping[int, tuple[Context, CandidateSet]], relevance: Mapping[int, np.ndarray]
) -> dict[int, np.ndarray]:
    """Each user's candidates in the ranker's order alone, no blend."""
    return {u: cs.ids[np.argsort(-relevance[u], kind="stable")][:TOP] for u, (_, cs) in served.items()}


def compare(
    rankings: Mapping[str, Mapping[int, Sequence[int]]], test: Mapping[int, frozenset[int]]
) -> dict[str, Any]:
    """ndcg@10 per user for every system, its 95% interval, and each stage-2 system against the best
    single system of the same run (paired t-test over the same users)."""
    scores = {name: per_user(ranked, test) for name, ranked in rankings.items()}
    singles = [name for name in SINGLE if name in scores]
    best = max(singles, key=lambda name: float(scores[name].mean()))
    return {
        "ndcg@10_ci": {name: list(interval(values)) for name, values in scores.items()},
        "best_single": best,
        "against_best": {
            name: paired_test(scores[name], scores[best]) for name in STAGE_TWO if name in scores
        },
    }


def _slice(
    rankings: Mapping[str, Mapping[int, Sequence[int]]],
    test: Mapping[int, frozenset[int]],
    names: Sequence[str],
) -> dict[str, Any]:
    """ndcg@10 of `names` over a slice of users, with intervals, and the pipeline against popularity and
    ALS (fold-in) by paired t-tests; just the user count when the slice is empty."""
    if not test:
        return {"users": 0}
    scores = {name: per_user(rankings[name], test) for name in names if name in rankings}
    out: dict[str, Any] = {
        "users": len(test),
        "ndcg@10": {name: float(v.mean()) for name, v in scores.items()},
        "ndcg@10_ci": {name: list(interval(v)) for name, v in scores.items()},
    }
    if "pipeline" in scores:
        out["pipeline_against"] = {
            name: paired_test(scores["pipeline"], scores[name])
            for name in ("popular", "als")
            if name in scores
        }
    return out


def _recall(
    lists: Mapping[str, Mapping[int, Sequence[int]]], test: Mapping[int, frozenset[int]], ks: Sequence[int]
) -> dict[str, dict[str, float]]:
    return {name: {f"recall@{k}": recall_at(ranked, test, k) for k in ks} for name, ranked in lists.items()}


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
    clock = _Clock(reporter or Silent())
    started = time.perf_counter()
    dataset = dataset or load_dataset(dataset_name, settings.data_dir)
    split = make_split(dataset.interactions, split_kind, seed=settings.seed)
    folds = validation_folds(split, settings.seed)
    users = sorted(split.test)
    if max_users is not None and len(users) > max_users:
        users = sorted(np.random.default_rng(settings.seed).choice(users, max_users, replace=False).tolist())
    test = {u: split.test[u] for u in users}

    base = settings.als
    als_grid = als_search_space(dataset.interactions, settings.seed)
    with clock.stage("Tuning on validation", total=len(als_grid) + len(EASE_GRID) + len(KNN_GRID)) as advance:
        als_params, _ = tune(
            lambda p: ALSRanker(base.model_copy(update=p)), als_grid, folds, progress=advance
        )
        ease_params, _ = tune(lambda p: EASE(**p), EASE_GRID, folds, progress=advance)
        knn_params, _ = tune(lambda p: ItemKNN(**p), KNN_GRID, folds, progress=advance)
    sequential = split.kind in SEQUENTIAL_SPLITS
    sasrec_params: dict[str, Any] = {}
    if sequential:
        with clock.stage("Tuning SASRec on validation", total=len(SASREC_GRID)) as advance:
            sasrec_params, _ = tune(
                lambda p: SASRec(seed=settings.seed, **p), SASREC_GRID, folds, progress=advance
            )

    rankings: dict[str, dict[int, Sequence[int]]] = {}
    ease_baseline = EASE(**ease_params)
    # The ranker's VAE features read this same model (one fit), as its EASE features read EASE's B.
    vae_baseline = MultVAE(settings.retrieval.vae)
    with clock.stage("Fitting baselines", total=4) as advance:
        for name, model in (
            ("popular", Popular()),
            ("itemknn", ItemKNN(**knn_params)),
            ("ease", ease_baseline),
            ("vae", vae_baseline),
        ):
            rankings[name] = model.fit(split.train).recommend(users, TOP)
            advance(1)
    # The EASE source is the tuned baseline's B: one inversion, and the source is the baseline exactly.
    assert (
        ease_baseline.B is not None and ease_baseline.matrix is not None and ease_baseline.columns is not None
    )
    ease_config = EASEConfig(l2=ease_params["l2"], min_users=ease_baseline.min_item_count)
    ease = EASEModel(ease_baseline.B, ease_baseline.matrix.item_ids[ease_baseline.columns], ease_config)

    if sequential:
        with clock.stage("Fitting SASRec"):
            sasrec = SASRec(seed=settings.seed, **sasrec_params).fit(split.train)
            rankings["sasrec"] = sasrec.recommend(users, TOP)

    config = base.model_copy(update=als_params)
    with clock.stage("Fitting ALS"):
        als = ALSModel.fit(split.train, config)
    with clock.timed("Embedding titles"):
        content = content_vectors(settings, dataset, clock.reporter)
    per_source: dict[str, dict[int, list[int]]] = {}
    histories = period_histories(split.train, users)
    now = served_at(split)

    def when(history: History) -> float:
        # A time cut serves everyone at the cut; a per-user hold-out right after each user's last title.
        return now if split.cut is not None else right_after(history, now)

    # The ranker is trained first: its pool's fusion decides which candidates it scores.
    trained = None
    if stage_two:
        with clock.timed("Training the ranker"):
            trained = train_ranker(
                settings,
                dataset,
                split.train,
                content,
                reporter=clock.reporter,
                als_config=config,
                ease_config=ease_config,
                inner_kind="user-temporal" if split.kind == "temporal" else split.kind,
            )
    fusion = trained.fusion if trained is not None else None
    fused: dict[int, list[int]] = {}
    pool: dict[int, list[int]] = {}
    served: dict[int, tuple[Context, CandidateSet]] = {}
    # Brand-new profiles: a seeded sample of test users, known only by their first ONBOARDED titles.
    rng = np.random.default_rng(settings.seed)
    onboarded = sorted(rng.choice(users, min(COLD_SAMPLE, len(users)), replace=False).tolist())
    new_lists: dict[str, dict[int, list[int]]] = {}
    new_served: dict[int, tuple[Context, CandidateSet]] = {}
    with (
        period_sources(
            settings, dataset, split.train, als, content, trending_now=now or None, ease=ease
        ) as sources,
        clock.stage("Querying candidate sources", total=len(users) + len(onboarded)) as advance,
    ):
        for u in users:
            context = Context(profile_id=str(u), history=histories[u], now=when(histories[u]))
            lists = [s.candidates(context=context, k=CANDIDATES) for s in sources]
            for source, found in zip(sources, lists, strict=True):
                per_source.setdefault(source.name, {})[u] = [c.title_id for c in found]
            fused[u] = merge(lists).ids[:CANDIDATES].tolist()
            # What serving scores: each source's first `source_k` (a prefix of the same query), pooled.
            heads = [
                found[: source_k(settings, s.name, fusion)] for s, found in zip(sources, lists, strict=True)
            ]
            cs = candidate_pool(settings, heads, fusion, len(context.history))
            served[u] = (context, cs)
            pool[u] = cs.ids.tolist()
            advance(1)
        for u in onboarded:
            picks = onboarded_history(histories[u], ONBOARDED)
            context = Context(profile_id=str(u), history=picks, now=when(picks))
            lists = [s.candidates(context=context, k=source_k(settings, s.name, fusion)) for s in sources]
            for source, found in zip(sources, lists, strict=True):
                new_lists.setdefault(source.name, {})[u] = [c.title_id for c in found[:TOP]]
            new_served[u] = (context, candidate_pool(settings, lists, fusion, len(picks)))
            advance(1)

    pop = popularity(split.train)
    n_train_users = len(split.train.user_ids())
    item_popularity = {t: c / n_train_users for t, c in pop.items()}
    rankings["als"] = {u: ids[:TOP] for u, ids in per_source[ALS_KIND.name].items()}
    rankings["content"] = {u: ids[:TOP] for u, ids in per_source[CONTENT_KIND.name].items()}
    trade_off: list[dict[str, float]] = []
    ranker_info: dict[str, Any] = {}
    vectors = vectors_of(dataset, content)
    if stage_two:
        assert trained is not None
        one = fit_stage_one(
            settings, dataset, split.train, content, als=als, ease=ease, vae=vae_baseline.model
        )
        ranker = trained.ranker
        stage = make_stage_two(settings, dataset, one, content, ranker)
        with clock.stage("Ranker scoring", total=len(served) + len(new_served)) as advance:
            relevance, new_relevance = {}, {}
            for u, (ctx, cs) in served.items():
                relevance[u] = stage.relevance(context=ctx, candidates=cs)
                advance(1)
            for u, (ctx, cs) in new_served.items():
                new_relevance[u] = stage.relevance(context=ctx, candidates=cs)
                advance(1)
            rankings["ranker"] = _by_relevance(served, relevance)
        with clock.stage(
            "Pipeline (blend + diversity)",
            total=(len(served) + len(new_served)) * 2 + len(served) * len(diversity),
        ) as advance:
            rankings["pipeline@div0"] = _pipeline(
                stage, served, stage.weights.model_copy(update={"diversity": 0.0}), advance, relevance
            )
            rankings["pipeline"] = _pipeline(stage, served, stage.weights, advance, relevance)
            new_rankings = {name: new_lists[name] for name in ("popular", "als", "ease") if name in new_lists}
            # The blend's cost kept visible for new profiles too: the ranker's own order, and no diversity.
            new_rankings["ranker"] = _by_relevance(new_served, new_relevance)
            new_rankings["pipeline@div0"] = _pipeline(
                stage, new_served, stage.weights.model_copy(update={"diversity": 0.0}), advance, new_relevance
            )
            new_rankings["pipeline"] = _pipeline(stage, new_served, stage.weights, advance, new_relevance)
            for w in diversity:
                swept = _pipeline(
                    stage, served, stage.weights.model_copy(update={"diversity": w}), advance, relevance
                )
                figures = evaluate(
                    swept, test, item_popularity=item_popularity, n_catalog=len(dataset.titles)
                )
                trade_off.append({"diversity": w, **figures, **beyond_accuracy(swept, vectors, pop)})
        ranker_info = {"objective": ranker.config.objective, **ranker.metrics}
    systems = {
        name: {
            **evaluate(ranked, test, item_popularity=item_popularity, n_catalog=len(dataset.titles)),
            **beyond_accuracy(ranked, vectors, pop),
        }
        for name, ranked in rankings.items()
    }
    pool_size = settings.ranker.candidates
    sizes = split.train.users
    counts = dict(zip(*np.unique(sizes, return_counts=True), strict=True))
    thin = {u: test[u] for u in users if counts.get(u, 0) <= COLD_HISTORY}
    cold_users = _slice(rankings, thin, ("popular", "als", "ease", "pipeline"))
    new_profiles = (
        _slice(new_rankings, {u: test[u] for u in onboarded}, tuple(new_rankings)) if stage_two else {}
    )
    return {
        "dataset": dataset_name,
        "split": split_kind,
        "users": len(users),
        "excluded_users": split.excluded_users,
        "train_interactions": len(split.train),
        "systems": systems,
        "significance": compare(rankings, test),
        "cold": {
            f"users with <= {COLD_HISTORY} training interactions": cold_users,
            f"new profiles with {ONBOARDED} titles": new_profiles,
        },
        "candidates": {
            "pool_size": pool_size,
            # How the served pool was made: the ranker's learned fusion, or (no ranker) the quotas.
            "pooling": "learned fusion" if fusion is not None else {"quotas": settings.ranker.quotas},
            "pool": recall_at(pool, test, pool_size),
            "fused": _recall({"fused": fused}, test, (pool_size, CANDIDATES))["fused"],
            "per_source": _recall(per_source, test, (pool_size, CANDIDATES)),
        },
        "tuned": {
            "als": config.model_dump(),
            "ease": ease_params,
            "itemknn": knn_params,
            **({"sasrec": sasrec_params} if sequential else {}),
        },
        "ranker": ranker_info,
        "diversity_sweep": trade_off,
        "stage_seconds": clock.seconds,
        "seconds": round(time.perf_counter() - started, 1),
    }
