"""Train the stage-2 ranker on a split inside the data it is given, so a test period is never seen.

Features come from before an inner cut (stage 1 refitted on that part), labels from after it:
exactly what the ranker faces when serving, one period later.
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from catalog import Context, Dataset, History, Interactions, derive_business, make_split
from engine.config import Settings
from engine.indexes import catalog_points, dims, period_index
from engine.progress import Reporter, Silent
from engine.wiring import make_sources
from ranker.features import FeatureBuilder, TitleStats
from ranker.ltr import LTRRanker, ProfileLengthRanker, Ranker, Split, TrainedRanker, choose_ranker
from ranker.pipeline import Stage2
from retrieval import (
    SOURCES,
    ALSConfig,
    ALSModel,
    Candidate,
    CandidateSet,
    CandidateSource,
    EASEConfig,
    EASEModel,
    ItemSimilarity,
    PoolFusion,
    UserNeighbours,
    VAEModel,
    merge,
)

RANKER_DIR = "ranker"
STATS_FILE = "title_stats.npz"
SIMILARITY_FILE = "item_similarity.npz"
EASE_FILE = "ease.npz"
NEIGHBOURS_FILE = "user_neighbours.npz"
VAE_FILE = "vae.npz"
FUSION_FILE = "pool_fusion.json"
ONBOARDED_RATING = 5.0  # a title picked at sign-up is liked
FUSION_NEGATIVES = 0.2  # share of the unlabelled titles the fusion learns from
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class StageOne:
    """Stage 1 fitted on one period: what both training and scoring of the ranker stand on."""

    als: ALSModel
    ease: EASEModel
    vae: VAEModel
    stats: TitleStats
    features: FeatureBuilder
    now: float


def fit_stage_one(
    settings: Settings,
    dataset: Dataset,
    train: Interactions,
    content: np.ndarray,
    *,
    als: ALSModel | None = None,
    als_config: ALSConfig | None = None,
    ease: EASEModel | None = None,
    ease_config: EASEConfig | None = None,
    vae: VAEModel | None = None,
) -> StageOne:
    """ALS, EASE and the VAE (unless given, fitted on `train`), title statistics, item and user
    neighbours and the feature builder for one period."""
    now = fit_now(train)
    als = als or ALSModel.fit(train, als_config or settings.als)
    ease = ease or EASEModel.fit(train, ease_config or settings.retrieval.ease)
    vae = vae or VAEModel.fit(train, settings.retrieval.vae)
    stats = TitleStats.from_interactions(train, np.array(sorted(dataset.titles), np.int64), now=now)
    neighbours = UserNeighbours.fit(train)
    features = feature_builder(dataset, stats, als, content, ItemSimilarity.fit(train), ease, neighbours, vae)
    return StageOne(als=als, ease=ease, vae=vae, stats=stats, features=features, now=now)


def fit_now(train: Interactions) -> float:
    """The moment a model fitted on `train` serves: its last interaction (0 for untimed data)."""
    return float(train.timestamps.max()) if train.timed else 0.0


def right_after(history: History, fallback: float) -> float:
    """When a profile is served: right after its last interaction on a timed history (a user-temporal
    hold-out's next titles follow that moment, and a live profile's request its last event), else
    `fallback`. Title age and days since the last title are then read as the viewer lived them."""
    stamps = history.timestamps
    return float(stamps.max()) if len(stamps) and stamps.max() > 0 else fallback


def source_k(settings: Settings, source: str, fusion: PoolFusion | None = None) -> int:
    """How many titles to ask `source` for: the fusion's depth for a source it weighs, else enough to
    fill the source's reserved places in a pool of `merge`'s quotas."""
    depth = fusion.depth_of(source) if fusion is not None else None
    if depth is not None:
        return depth
    return max(settings.ranker.candidates_per_source, settings.ranker.quotas.get(source, 0))


def candidate_pool(
    settings: Settings,
    lists: Sequence[Sequence[Candidate]],
    fusion: PoolFusion | None = None,
    profile_length: int = 0,
) -> CandidateSet:
    """The merged list the ranker scores, cut at `candidates`: the learned fusion's best titles, or,
    with none trained (a ranker-less build, the index away), reserved heads first (see `merge`)."""
    if fusion is None:
        return merge(lists, quotas=settings.ranker.quotas).top(settings.ranker.candidates)
    return fusion.fuse(lists, profile_length, settings.ranker.candidates, settings.ranker.revisits)


def feature_builder(
    dataset: Dataset,
    stats: TitleStats,
    als: ALSModel,
    content: np.ndarray,
    similarity: ItemSimilarity,
    ease: EASEModel,
    neighbours: UserNeighbours,
    vae: VAEModel,
) -> FeatureBuilder:
    """Features over the catalog, whose content rows follow sorted title ids."""
    return FeatureBuilder(
        similarity=similarity,
        ease=ease,
        neighbours=neighbours,
        vae=vae,
        titles=dataset.titles,
        stats=stats,
        als=als,
        content_ids=np.array(sorted(dataset.titles), np.int64),
        content=content,
        genres=sorted({g for t in dataset.titles.values() for g in t.genres}),
    )


def stage_two(
    settings: Settings, dataset: Dataset, one: StageOne, content: np.ndarray, ranker: Ranker
) -> Stage2:
    """Ranking, blend and diversity over one period's stage 1 (`content` rows follow sorted title ids)."""
    return Stage2(
        features=one.features,
        ranker=ranker,
        stats=one.stats,
        business=derive_business(dataset.titles, now=one.now),
        content_ids=np.array(sorted(dataset.titles), np.int64),
        content=content,
        weights=settings.ranker,
    )


def histories(train: Interactions, users: Sequence[int]) -> dict[int, History]:
    """Each user's training interactions as a History, oldest first."""
    order = np.lexsort((train.timestamps, train.users))
    users_sorted = train.users[order]
    out = {}
    for user in users:
        lo, hi = np.searchsorted(users_sorted, user), np.searchsorted(users_sorted, user, side="right")
        rows = order[lo:hi]
        out[user] = History(
            items=train.items[rows], weights=train.ratings[rows], timestamps=train.timestamps[rows]
        )
    return out


@contextmanager
def period_sources(
    settings: Settings,
    dataset: Dataset,
    train: Interactions,
    als: ALSModel,
    content: np.ndarray,
    *,
    trending_now: float | None,
    ease: EASEModel | None = None,
) -> Iterator[list[CandidateSource]]:
    """Stage-1 sources (no rewatches) over a temporary exact index of one period's vectors and counts."""
    points = catalog_points(settings, dataset, train, content, als, trending_now=trending_now)
    with tempfile.TemporaryDirectory(prefix="marquee-period-") as tmp:
        index = period_index(Path(tmp), points, dims(content, als))
        try:
            yield [
                s
                for s in make_sources(settings, index, als, dataset.titles, ease=ease)
                if s.name not in SOURCES.proposing_seen
            ]
        finally:
            index.close()


def pools_for(
    settings: Settings,
    sources: Sequence[CandidateSource],
    fusion: PoolFusion | None,
    contexts: Mapping[K, Context],
    *,
    reporter: Reporter,
    label: str,
) -> dict[K, tuple[Context, CandidateSet]]:
    """The served candidate pool per context."""
    out: dict[K, tuple[Context, CandidateSet]] = {}
    with reporter.stage(label, total=len(contexts)) as advance:
        for key, context in contexts.items():
            lists = [s.candidates(context=context, k=source_k(settings, s.name, fusion)) for s in sources]
            out[key] = (context, candidate_pool(settings, lists, fusion, len(context.history)))
            advance(1)
    return out


def fit_fusion(
    settings: Settings,
    sources: Sequence[CandidateSource],
    contexts: Mapping[K, Context],
    relevant: Mapping[K, Collection[int]],
    *,
    rng: np.random.Generator,
    reporter: Reporter,
) -> PoolFusion:
    """The pool's fusion, learned from where each source ranked the titles `relevant` holds for a
    sample of `contexts` (each source asked for its `fusion_depths`)."""
    cfg = settings.ranker
    names = tuple(s.name for s in sources)
    unfitted = PoolFusion(
        sources=names,
        depths=tuple(cfg.fusion_depths.get(name, cfg.candidates_per_source) for name in names),
        short_below=cfg.short_model_below,
        weights=np.zeros(PoolFusion.width(len(names))),
    )
    keys = list(contexts)
    if len(keys) > cfg.fusion_profiles:
        keys = [keys[i] for i in sorted(rng.choice(len(keys), cfg.fusion_profiles, replace=False))]
    rows, labels = [], []
    with reporter.stage("Learning the candidate pool's fusion", total=len(keys)) as advance:
        for key in keys:
            context = contexts[key]
            lists = [s.candidates(context=context, k=source_k(settings, s.name, unfitted)) for s in sources]
            ids, X, _ = unfitted.features(lists, len(context.history))
            y = np.isin(ids, list(relevant[key]))
            # Every positive, a share of the rest: a logistic model's order survives thinning the
            # negatives at random (only its bias moves), and the rows fit in memory on ml-1m.
            keep = y | (rng.random(len(y)) < FUSION_NEGATIVES)
            rows.append(X[keep])
            labels.append(y[keep].astype(np.float64))
            advance(1)
    return PoolFusion.fit(
        np.concatenate(rows),
        np.concatenate(labels),
        sources=names,
        depths=unfitted.depths,
        short_below=unfitted.short_below,
    )


def onboarded(history: History, n: int, *, start: int = 0) -> History:
    """A brand-new profile that picked `n` titles of `history` at sign-up, the first ones unless `start`
    says from where: each one liked, as onboarding records a pick (a thumbs up)."""
    items = history.items[start : start + n]
    return History(
        items=items,
        weights=np.full(len(items), ONBOARDED_RATING, np.float32),
        timestamps=history.timestamps[start : start + n],
    )


def short_profiles(history: History, n: int, windows: int) -> list[History]:
    """Up to `windows` new profiles of `n` picks from one history: its first `n` titles, then the next
    `n`, and so on, each with at least one title after it (the whole history is never a short one)."""
    return [onboarded(history, n, start=w * n) for w in range(windows) if len(history) > (w + 1) * n]


def train_ranker(
    settings: Settings,
    dataset: Dataset,
    interactions: Interactions,
    content: np.ndarray,
    *,
    reporter: Reporter | None = None,
    als_config: ALSConfig | None = None,
    ease_config: EASEConfig | None = None,
    inner_kind: str | None = None,
) -> TrainedStageTwo:
    """Inner split of `interactions`; learn the pool's fusion, then rank its candidates of the earlier
    part against positives of the later part; choose rank:ndcg or rank:pairwise on held-out users.
    `als_config` must be the one serving (or evaluation) uses, so the ALS-score features mean the same
    in training and in use.

    The inner split is `inner_kind` (evaluation passes its protocol's, so the ranker learns the task
    it is measured on); by default timed data holds out each user's latest titles (a global cut leaves
    ~20 users on ml-latest-small, too few groups to learn from) and untimed data random ones.
    """
    reporter = reporter or Silent()
    cfg = settings.ranker
    inner_kind = inner_kind or ("user-temporal" if interactions.timed else "random")
    inner = make_split(interactions, inner_kind, seed=settings.seed)
    one = fit_stage_one(
        settings, dataset, inner.train, content, als_config=als_config, ease_config=ease_config
    )
    rng = np.random.default_rng(settings.seed)
    users = sorted(inner.test)
    if len(users) > cfg.max_training_users:
        users = sorted(rng.choice(users, cfg.max_training_users, replace=False).tolist())
    history = histories(inner.train, users)
    # Keyed by (user, picks, window): (user, 0, 0) is the whole history.
    contexts: dict[tuple[int, int, int], Context] = {
        (u, 0, 0): Context(str(u), history[u], now=right_after(history[u], one.now)) for u in users
    }
    # Short profiles too (a new profile's picks): trained on long histories alone, the ranker had never
    # seen one, and a 3-title profile ranked below plain popularity. Each user adds up to
    # `short_windows` of one length (taken in turn from `short_histories`): its first titles, the next
    # ones, and so on. A user's first titles alone gave the short model one profile per user, too few
    # to learn from: with three windows it ranked new profiles 10% better on validation.
    for i, user in enumerate(users if cfg.short_histories else ()):
        n = cfg.short_histories[i % len(cfg.short_histories)]
        for w, picks in enumerate(short_profiles(history[user], n, cfg.short_windows)):
            contexts[(user, n, w)] = Context(str(user), picks, now=right_after(picks, one.now))
    relevant = {key: inner.test[key[0]] for key in contexts}
    with period_sources(
        settings, dataset, inner.train, one.als, content, trending_now=one.now or None, ease=one.ease
    ) as sources:
        fusion = fit_fusion(settings, sources, contexts, relevant, rng=rng, reporter=reporter)
        found = pools_for(
            settings, sources, fusion, contexts, reporter=reporter, label="Ranker training candidates"
        )
    groups = []
    for qid, key in enumerate(contexts):
        user, n, _ = key
        context, candidates = found[key]
        labels = np.isin(candidates.ids, list(inner.test[user])).astype(np.float32)
        if labels.any():  # a list with nothing to find teaches the ranker nothing
            X = one.features.build(context=context, candidates=candidates)
            groups.append(_Group(qid, user, n, X, labels))
    full = [g for g in groups if g.length == 0]
    if len(full) < 10:
        raise ValueError(f"too few users ({len(full)}) with positives among candidates to train a ranker")
    # Early stopping holds out whole users, so a user's short profile never validates its long one.
    # Each model of the bag holds out its own fifth; the first chooses the objective and tree shape.
    held = sorted({g.user for g in full})
    rng.shuffle(held)
    fifth = max(1, len(held) // 5)
    folds = [set(held[k * fifth : (k + 1) * fifth]) for k in range(cfg.bag)]

    def fit(chosen: list[_Group]) -> LTRRanker:
        def split(valid_users: set[int]) -> tuple[Split, Split]:
            train = _stack([g for g in chosen if g.user not in valid_users])
            return train, _stack([g for g in chosen if g.user in valid_users])

        first, metrics = choose_ranker(*split(folds[0]), names=one.features.names, base=cfg.ltr)
        names, config = one.features.names, first.config
        others = [
            LTRRanker.fit(*train, names=names, config=config, eval_set=valid)
            for train, valid in map(split, folds[1:])
        ]
        ranker = LTRRanker.bagged([first, *others]) if others else first
        counts = {"training_users": len(held), "training_profiles": len(chosen)}
        ranker.metrics.update({"objectives": metrics, **counts})
        return ranker

    with reporter.stage("Training the ranker", total=2 if len(groups) > len(full) else 1) as advance:
        whole = fit(full)
        advance(1)
        ranker: TrainedRanker = whole
        if len(groups) > len(full):
            # The short-profile model learns from both kinds: on validation folds that ranked 3-title
            # profiles better than a model of short profiles alone.
            short = fit(groups)
            advance(1)
            ranker = ProfileLengthRanker(full=whole, short=short, below=cfg.short_model_below)
    return TrainedStageTwo(ranker=ranker, fusion=fusion)


@dataclass(frozen=True)
class TrainedStageTwo:
    """What training leaves for serving: the pool's fusion and the ranker that scores its pool."""

    ranker: TrainedRanker
    fusion: PoolFusion


@dataclass(frozen=True)
class _Group:
    """One training profile's candidates: `length` 0 for a user's whole history, else its picks."""

    qid: int
    user: int
    length: int
    X: np.ndarray
    labels: np.ndarray


def _stack(groups: list[_Group]) -> Split:
    """The groups' rows, in qid order (XGBoost wants a group's rows together)."""
    X = np.concatenate([g.X for g in groups])
    y = np.concatenate([g.labels for g in groups])
    qid = np.concatenate([np.full(len(g.labels), g.qid, np.int64) for g in groups])
    return X, y, qid
