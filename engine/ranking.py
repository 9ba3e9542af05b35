"""Train the stage-2 ranker on a split inside the data it is given, so a test period is never seen.

Features come from before an inner cut (stage 1 refitted on that part), labels from after it:
exactly what the ranker faces when serving, one period later.
"""

from __future__ import annotations

import tempfile
from collections.abc import Hashable, Iterator, Mapping, Sequence
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
ONBOARDED_RATING = 5.0  # a title picked at sign-up is liked
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


def source_k(settings: Settings, source: str) -> int:
    """How many titles to ask `source` for: enough to fill its reserved places in the pool."""
    return max(settings.ranker.candidates_per_source, settings.ranker.quotas.get(source, 0))


def candidate_pool(settings: Settings, lists: Sequence[Sequence[Candidate]]) -> CandidateSet:
    """The merged list the ranker scores: reserved heads first (see `merge`), cut at `candidates`."""
    return merge(lists, quotas=settings.ranker.quotas).top(settings.ranker.candidates)


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


def candidates_for(
    settings: Settings,
    dataset: Dataset,
    train: Interactions,
    one: StageOne,
    content: np.ndarray,
    contexts: Mapping[K, Context],
    *,
    reporter: Reporter,
    label: str,
) -> dict[K, tuple[Context, CandidateSet]]:
    """The served candidate pool per context, from a temporary index of this period's vectors."""
    out: dict[K, tuple[Context, CandidateSet]] = {}
    with (
        period_sources(
            settings, dataset, train, one.als, content, trending_now=one.now or None, ease=one.ease
        ) as sources,
        reporter.stage(label, total=len(contexts)) as advance,
    ):
        for key, context in contexts.items():
            lists = [s.candidates(context=context, k=source_k(settings, s.name)) for s in sources]
            out[key] = (context, candidate_pool(settings, lists))
            advance(1)
    return out


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
) -> TrainedRanker:
    """Inner split of `interactions`; rank candidates of the earlier part against positives of the later
    part; choose rank:ndcg or rank:pairwise on held-out users. `als_config` must be the one serving
    (or evaluation) uses, so the ALS-score features mean the same in training and in use.

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
    found = candidates_for(
        settings,
        dataset,
        inner.train,
        one,
        content,
        contexts,
        reporter=reporter,
        label="Ranker training candidates",
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
        ranker = fit(full)
        advance(1)
        if len(groups) == len(full):
            return ranker
        # The short-profile model learns from both kinds: on validation folds that ranked 3-title
        # profiles better than a model of short profiles alone.
        short = fit(groups)
        advance(1)
    return ProfileLengthRanker(full=ranker, short=short, below=cfg.short_model_below)


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
