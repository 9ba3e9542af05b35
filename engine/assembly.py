"""The composition root: the one place that builds an engine from its parts.

`assemble` serves built artifacts (`marquee serve`, the CLI, page workers, the assistant); with `period`,
it fits every part on a split's training interactions instead, for evaluations that go through the
facade and must not see the test period. Nothing else constructs an engine's parts.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from catalog import Dataset, EventStore, Title, load_dataset
from catalog.conversations import PostgresConversations, SQLiteConversations
from catalog.database import Database
from catalog.pg_events import PostgresStore
from catalog.splitting import Split
from engine.artifacts import Manifest
from engine.build import ALS_FILE, content_vectors
from engine.config import Settings
from engine.errors import ArtifactsMissingError, StaleArtifactsError
from engine.experiments import EXPERIMENTS_FILE, PostgresServedPages, ServedPages
from engine.facade import Engine, Parts, State
from engine.indexes import catalog_points, dims, open_index, open_replica, period_index
from engine.pages import SCRATCH_DIR, PageWorkers
from engine.periods import data_now
from engine.progress import Reporter, Silent
from engine.ranking import (
    EASE_FILE,
    FUSION_FILE,
    NEIGHBOURS_FILE,
    RANKER_DIR,
    SIMILARITY_FILE,
    STATS_FILE,
    VAE_FILE,
    StageOne,
    feature_builder,
    fit_stage_one,
    stage_two,
    train_ranker,
)
from engine.scratch import ScratchFolder, sweep
from engine.title_edits import TitleEdits, TitleEditStore, WithoutRemoved, apply_edits, title_edits
from engine.wiring import make_sources
from ranker import ArtworkBandit, RowOrderBandit, TitleStats, load_ranker
from ranker.beta_counts import PostgresBetaCounts
from ranker.pipeline import Stage2
from retrieval import (
    ALSModel,
    CandidateSource,
    EASEModel,
    IndexHeldError,
    ItemSimilarity,
    PoolFusion,
    TextEmbedder,
    TitleIndex,
    TitlePoint,
    UserNeighbours,
    VAEModel,
    title_points,
)

BANDITS_FILE = "bandits.sqlite"
# How stale a server's bandit counts may be: every this many seconds it folds in what other processes
# (replicas, on a shared database) counted: one query per policy, made by the first page past due.
BANDIT_REFRESH_S = 5.0
CONVERSATIONS_FILE = "conversations.sqlite"
EVENTS_FILE = "events.sqlite"
LAUNCH_QUANTILE = 0.9  # an added title is indexed as popular as this share of the catalog, until its data
PERIOD = "training-period"
REPLICAS_DIR = "replicas"  # under the data set's state folder: shard copies of second servers
log = logging.getLogger("marquee.engine")


def assemble(
    settings: Settings,
    dataset_name: str,
    *,
    dataset: Dataset | None = None,
    index: TitleIndex | None = None,
    period: Split | None = None,
    reporter: Reporter | None = None,
) -> Engine:
    """The engine over `dataset_name`'s built artifacts; `index` replaces the configured one (a page
    worker's copy). With `settings.page_workers`, that many processes start making page drafts.

    With `period`, an engine that knows only `period.train`: ALS, EASE, title statistics, similarity and
    the ranker refitted on it (the ranker on an inner split, as `marquee eval` does), its counts in a
    temporary exact index, its state in a temporary folder that closing the engine removes. Only the
    title embeddings are shared with the build: they come from catalog text, not from anyone's ratings.
    """
    if period is not None:
        return _period_engine(
            settings, dataset or load_dataset(dataset_name, settings.data_dir), period, reporter
        )
    return _served_engine(settings, dataset_name, dataset=dataset, index=index)


def reloaded(engine: Engine) -> Engine:
    """A new engine over the same index with the operator's title edits read anew (a title added,
    changed or removed while serving). The caller swaps it in and drops the old one without closing it:
    requests in flight still use it, and the index and the state (stores, bandits) are shared. What the
    old one would have done at its close (close the edits' store and the state, remove a replica's shard
    copy) the new one does. Pages are drafted in-process from now on: page workers hold the old catalog."""
    parts = engine._parts
    if engine._drafts is not None:
        engine._drafts.close()
    settings = parts.settings.model_copy(update={"page_workers": 0})
    on_close, engine._on_close = engine._on_close, []
    return _served_engine(
        settings,
        parts.dataset.name,
        index=parts.base_index,
        edits=parts.edits,
        state=engine._state,
        on_close=on_close,
    )


def over_state(engine: Engine, settings: Settings) -> Engine:
    """An engine sharing `engine`'s loaded parts with the state (events, bandits, experiment log) of
    `settings`' state folder: a second tenant of one load, for tests and experiments. Closing it closes
    its own state only."""
    parts = replace(engine._parts, settings=settings)
    return Engine(parts, _state(settings, parts.dataset.name), owns_index=False)


def worker_engine(settings: Settings, dataset_name: str, folder: Path) -> Engine:
    """A page worker's engine: over a replica of the index in `folder` (engine/pages.py)."""
    return _served_engine(settings, dataset_name, index=open_replica(settings, dataset_name, folder))


def operator_points(
    dataset: Dataset, titles: Sequence[Title], content: np.ndarray, stage2: Stage2, als: ALSModel
) -> list[TitlePoint]:
    """Index points of titles added while serving. Nobody has watched them yet, so they launch with the
    popularity of a well-watched title: enough for New Releases and the popular lists to show them until
    the next build counts their real interactions."""
    rows = np.searchsorted(np.array(sorted(dataset.titles), np.int64), [t.id for t in titles])
    watched = stage2.stats.popularity["all"]
    launch = float(np.quantile(watched[watched > 0], LAUNCH_QUANTILE)) if (watched > 0).any() else 1.0
    exposure = {t.id: launch for t in titles}
    return title_points(titles, content[rows], als, exposure, exposure, business=stage2.business)


def _served_engine(
    settings: Settings,
    dataset_name: str,
    *,
    dataset: Dataset | None = None,
    index: TitleIndex | None = None,
    edits: TitleEditStore | None = None,
    state: State | None = None,
    on_close: list[Callable[[], None]] | None = None,
) -> Engine:
    folder = settings.dataset_artifacts(dataset_name)
    try:
        manifest = Manifest.read(folder)
    except FileNotFoundError:
        raise ArtifactsMissingError(
            f"no artifacts for {dataset_name!r} in {folder}; run `marquee build --dataset {dataset_name}`"
        ) from None
    dataset = dataset or load_dataset(dataset_name, settings.data_dir)
    if dataset.checksum != manifest.data_checksum:
        raise StaleArtifactsError(
            f"artifacts in {folder} were built from other data; run `marquee build --dataset {dataset_name}`"
        )
    on_close = on_close if on_close is not None else []
    if edits is None:
        edits = title_edits(settings, dataset_name)
        on_close.append(edits.close)
    # The version first: an edit made while reading is then read again by the replica's next poll.
    catalog_version = edits.version()
    added, removed = edits.read()
    dataset = apply_edits(dataset, added, removed)  # the operator's titles, added or removed while serving
    # The ranker may be missing (degraded mode); stage 1 and the features may not.
    lacking = [
        name
        for name in (ALS_FILE, EASE_FILE, STATS_FILE, SIMILARITY_FILE, NEIGHBOURS_FILE, VAE_FILE)
        if not (folder / name).is_file()
    ]
    if lacking:
        raise ArtifactsMissingError(
            f"artifacts in {folder} lack {', '.join(lacking)} (built by an older version?); "
            f"run `marquee build --dataset {dataset_name}`"
        )
    als = ALSModel.load(folder / ALS_FILE)
    ease = EASEModel.load(folder / EASE_FILE)
    if index is None:
        index = _own_index(settings, dataset_name, on_close)
    base_index = index
    served = WithoutRemoved(base_index, removed) if removed else base_index
    # Loads its model on the first free-text query only. One thread: a request embeds a phrase or two,
    # which a second thread does not speed up, and on a busy machine torch's pool of two waits on itself
    # (one phrase: ~1 s at load 8 with two threads, 25 ms with one); requests run side by side instead.
    embedder = TextEmbedder(threads=1)
    # Vectors come from the build's cache: no model load when every title is cached.
    content = content_vectors(settings, dataset, Silent(), embedder)
    stats = TitleStats.load(folder / STATS_FILE)
    similarity = ItemSimilarity.load(folder / SIMILARITY_FILE)
    neighbours = UserNeighbours.load(folder / NEIGHBOURS_FILE)
    vae = VAEModel.load(folder / VAE_FILE)
    features = feature_builder(dataset, stats, als, content, similarity, ease, neighbours, vae)
    one = StageOne(als=als, ease=ease, vae=vae, stats=stats, features=features, now=data_now(dataset))
    ranker = load_ranker(folder / RANKER_DIR, names=one.features.names, threads=1)
    stage2 = stage_two(settings, dataset, one, content, ranker)
    # A build before the learned fusion has none: its pool keeps the quotas it was trained on.
    fusion = PoolFusion.load(folder / FUSION_FILE) if (folder / FUSION_FILE).is_file() else None
    if added:  # embedded above with the rest; indexed now, so every source can find them at once
        base_index.upsert(operator_points(dataset, [added[t] for t in sorted(added)], content, stage2, als))
    state_folder = settings.dataset_state(dataset_name)
    state_folder.mkdir(parents=True, exist_ok=True)
    if not settings.page_workers:
        sweep(state_folder / SCRATCH_DIR)  # shard copies a killed server left (workers sweep as they start)
    parts = Parts(
        settings=settings,
        dataset=dataset,
        index=served,
        base_index=base_index,
        sources=_sources(settings, served, one, dataset, embedder, stage2),
        fusion=fusion,
        stage2=stage2,
        manifest=manifest,
        embedder=embedder,
        edits=edits,
        catalog_version=catalog_version,
    )
    workers = settings.page_workers
    drafts = PageWorkers(settings, dataset_name, workers, loader=worker_engine) if workers else None
    state = state or _state(settings, dataset_name)
    return Engine(parts, state, drafts=drafts, on_close=on_close)


def _own_index(settings: Settings, dataset_name: str, on_close: list[Callable[[], None]]) -> TitleIndex:
    """The configured index; for an embedded shard that another server on this machine holds (a second
    replica), a copy of it in a scratch folder of this server's, removed when the engine closes (or, if
    the server is killed, by the next server to start)."""
    try:
        return open_index(settings, dataset_name)
    except IndexHeldError:
        scratch = ScratchFolder(settings.dataset_state(dataset_name) / REPLICAS_DIR)
        on_close.append(scratch.close)
        log.info("title index held by another server: this replica serves a copy in %s", scratch.path)
        return open_replica(settings, dataset_name, scratch.path)


def _period_engine(settings: Settings, dataset: Dataset, split: Split, reporter: Reporter | None) -> Engine:
    reporter = reporter or Silent()
    embedder = TextEmbedder()  # the engine keeps it: the assistant over it reuses the same model
    content = content_vectors(settings, dataset, reporter, embedder)  # the build's cache of catalog text
    period = replace(dataset, interactions=split.train)
    now = data_now(period)
    config = settings.als
    with reporter.stage("Fitting ALS on the training period"):
        als = ALSModel.fit(split.train, config)
        one = fit_stage_one(settings, period, split.train, content, als=als)
    trained = train_ranker(settings, period, split.train, content, reporter=reporter, als_config=config)
    folder = Path(tempfile.mkdtemp(prefix="marquee-period-engine-"))
    local = settings.model_copy(update={"state_dir": folder / "state", "artifacts_dir": folder})
    local.dataset_state(dataset.name).mkdir(parents=True, exist_ok=True)
    stage2 = stage_two(local, period, one, content, trained.ranker)
    points = catalog_points(
        settings, dataset, split.train, content, als, trending_now=now or None, business=stage2.business
    )
    index = period_index(folder, points, dims(content, als), reporter=reporter)
    parts = Parts(
        settings=local,
        dataset=period,
        index=index,
        base_index=index,
        sources=_sources(local, index, one, dataset, embedder, stage2),
        fusion=trained.fusion,
        stage2=stage2,
        manifest=Manifest(
            dataset=dataset.name, data_checksum=dataset.checksum, parameters={"period": PERIOD}
        ),
        embedder=embedder,
        edits=TitleEdits.of(local, dataset.name),  # never written: an evaluation serves no operator
        catalog_version=0,
    )
    return Engine(parts, _sqlite_state(folder), on_close=[lambda: shutil.rmtree(folder, ignore_errors=True)])


def _sources(
    settings: Settings,
    index: TitleIndex,
    one: StageOne,
    dataset: Dataset,
    embedder: TextEmbedder,
    stage2: Stage2,
) -> list[CandidateSource]:
    """Every candidate source; their region filters read the business facts stage 2 derived."""
    return make_sources(
        settings,
        index,
        one.als,
        dataset.titles,
        embed=lambda text: embedder.encode([text])[0],
        ease=one.ease,
        business=stage2.business,
    )


def _state(settings: Settings, dataset_name: str) -> State:
    """Accounts, profiles, events, the bandits' counts, conversations and the experiment page log: all in
    PostgreSQL when a database URL is set (one pool for them all), else in SQLite in the state folder."""
    folder = settings.dataset_state(dataset_name)
    folder.mkdir(parents=True, exist_ok=True)
    url = settings.database_url
    if url is None:
        return _sqlite_state(folder)
    database = Database(url.get_secret_value())
    counts = PostgresBetaCounts(database)
    return State(
        store=PostgresStore(database),
        artwork=ArtworkBandit.over(counts, refresh_s=BANDIT_REFRESH_S),
        row_order=RowOrderBandit.over(counts, refresh_s=BANDIT_REFRESH_S),
        conversations=PostgresConversations(database),
        pages=lambda: PostgresServedPages(database),
        database=database,
    )


def _sqlite_state(folder: Path) -> State:
    """The embedded state: a SQLite file each, in `folder`."""
    return State(
        store=EventStore(folder / EVENTS_FILE),
        # Refreshed too: other processes on this machine may share the file.
        artwork=ArtworkBandit.open(folder / BANDITS_FILE, refresh_s=BANDIT_REFRESH_S),
        row_order=RowOrderBandit.open(folder / BANDITS_FILE, refresh_s=BANDIT_REFRESH_S),
        conversations=SQLiteConversations(folder / CONVERSATIONS_FILE),
        pages=lambda: ServedPages(folder / EXPERIMENTS_FILE),
    )
