"""The serving facade: loads built artifacts once and answers requests. Never trains.

Every method may be called from several threads at once. The parts a request reads (index, models,
catalog) never change after loading; what a request notes about itself (stage timings, a fallback)
goes to its own trace; the few shared things that do change (the event store, the bandits' counts,
the experiment log) serialize their own writes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from catalog import (
    Constraints,
    Context,
    Dataset,
    Event,
    EventStore,
    History,
    Title,
    derive_business,
    load_dataset,
)
from engine.arms import PageLog
from engine.artifacts import Manifest
from engine.build import ALS_FILE, content_vectors, data_now
from engine.config import ExperimentSettings, Settings
from engine.errors import ArtifactsMissingError, StaleArtifactsError
from engine.experiments import EXPERIMENTS_FILE
from engine.feedback import Feedback
from engine.homepage import Draft, Homepage, my_list_row
from engine.indexes import open_index
from engine.lists import Lists
from engine.pages import SCRATCH_DIR, PageWorkers
from engine.profiles import Profiles
from engine.progress import Silent
from engine.ranking import (
    EASE_FILE,
    RANKER_DIR,
    SIMILARITY_FILE,
    STATS_FILE,
    StageOne,
    feature_builder,
    stage_two,
)
from engine.results import Recommendation, StageTimer
from engine.scratch import sweep
from engine.search import Search, SearchIntent
from engine.title_edits import TitleEdits, WithoutRemoved
from engine.trace import current_trace, new_trace
from engine.wiring import make_sources
from ranker import ArtworkBandit, LTRRanker, RowOrderBandit, TitleStats, load_ranker
from ranker.pipeline import Stage2
from ranker.rows import Row
from retrieval import (
    ALSModel,
    CandidateSet,
    CandidateSource,
    EASEModel,
    GenreSource,
    ItemSimilarity,
    TextEmbedder,
    TitleIndex,
    TitlePoint,
    title_points,
)

BANDITS_FILE = "bandits.sqlite"
EVENTS_FILE = "events.sqlite"
LAUNCH_QUANTILE = 0.9  # an added title is indexed as popular as this share of the catalog, until its data


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


class Engine:
    def __init__(
        self,
        *,
        settings: Settings,
        dataset: Dataset,
        index: TitleIndex,
        sources: list[CandidateSource],
        stage2: Stage2,
        manifest: Manifest,
        artwork: ArtworkBandit,
        row_order: RowOrderBandit,
        store: EventStore,
        embedder: TextEmbedder | None = None,
        pages: PageWorkers | None = None,
    ) -> None:
        self.settings = settings
        self.pages = pages  # None: drafts are made in this process
        # The one copy of the text model in the process: the content source's and the assistant's.
        self.embedder = embedder or TextEmbedder()
        self.dataset = dataset
        self.index = index
        self.sources = sources
        self.stage2 = stage2
        self.manifest = manifest
        self.artwork = artwork
        self.row_order = row_order
        self.store = store
        self.degraded = not isinstance(stage2.ranker, LTRRanker)
        self.base_index = index  # the index below any wrapper, which a reloaded engine reuses (set by load)
        self.profiles = Profiles(dataset, store)
        self.lists = Lists(settings=settings, dataset=dataset, index=index, sources=sources, stage2=stage2)
        self.searcher = Search(dataset=dataset, lists=self.lists, stage2=stage2)
        self.feedback = Feedback(
            store=store,
            artwork=artwork,
            row_order=row_order,
            history=self.profiles.stored_history,
            segment=self.profiles.segment,
        )
        self.page_log = PageLog(settings.dataset_state(dataset.name) / EXPERIMENTS_FILE, stage2)
        self.homepage = Homepage(
            titles=dataset.titles,
            stage2=stage2,
            lists=self.lists,
            genres=next(s for s in sources if isinstance(s, GenreSource)),
            artwork=artwork,
            row_order=row_order,
            segment=self.profiles.segment,
            page_log=self.page_log,
            seed=settings.seed,
            rows=settings.rows,
        )

    @classmethod
    def load(
        cls,
        settings: Settings,
        dataset_name: str,
        *,
        dataset: Dataset | None = None,
        index: TitleIndex | None = None,
    ) -> Engine:
        """The engine over built artifacts; `index` replaces the configured one (a page worker's copy).
        With `settings.page_workers`, that many processes start making page drafts."""
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
                f"artifacts in {folder} were built from other data; "
                f"run `marquee build --dataset {dataset_name}`"
            )
        edits = TitleEdits.of(settings, dataset_name)
        dataset = edits.apply(dataset)  # the operator's titles, added or removed while serving
        # The ranker may be missing (degraded mode); stage 1 and the features may not.
        lacking = [
            name
            for name in (ALS_FILE, EASE_FILE, STATS_FILE, SIMILARITY_FILE)
            if not (folder / name).is_file()
        ]
        if lacking:
            raise ArtifactsMissingError(
                f"artifacts in {folder} lack {', '.join(lacking)} (built by an older version?); "
                f"run `marquee build --dataset {dataset_name}`"
            )
        als = ALSModel.load(folder / ALS_FILE)
        ease = EASEModel.load(folder / EASE_FILE)
        base_index = index or open_index(settings, dataset_name)
        added, removed = edits.read()
        index = WithoutRemoved(base_index, removed) if removed else base_index
        embedder = TextEmbedder()  # loads its model on the first free-text query only
        sources = make_sources(
            settings,
            index,
            als,
            dataset.titles,
            embed=lambda text: embedder.encode([text])[0],
            ease=ease,
            business=derive_business(dataset.titles, now=data_now(dataset)),
        )
        # Vectors come from the build's cache: no model load when every title is cached.
        content = content_vectors(settings, dataset, Silent(), embedder)
        stats = TitleStats.load(folder / STATS_FILE)
        similarity = ItemSimilarity.load(folder / SIMILARITY_FILE)
        features = feature_builder(dataset, stats, als, content, similarity, ease)
        one = StageOne(als=als, ease=ease, stats=stats, features=features, now=data_now(dataset))
        stage2 = stage_two(
            settings,
            dataset,
            one,
            content,
            load_ranker(folder / RANKER_DIR, names=one.features.names, threads=1),
        )
        if added:  # embedded above with the rest; indexed now, so every source can find them at once
            base_index.upsert(
                operator_points(dataset, [added[t] for t in sorted(added)], content, stage2, als)
            )
        state = settings.dataset_state(dataset_name)
        state.mkdir(parents=True, exist_ok=True)
        if not settings.page_workers:
            sweep(state / SCRATCH_DIR)  # shard copies a killed server left (workers sweep as they start)
        engine = cls(
            settings=settings,
            dataset=dataset,
            index=index,
            sources=sources,
            stage2=stage2,
            manifest=manifest,
            artwork=ArtworkBandit.open(state / BANDITS_FILE),
            row_order=RowOrderBandit.open(state / BANDITS_FILE),
            store=EventStore(state / EVENTS_FILE),
            embedder=embedder,
            pages=PageWorkers(settings, dataset_name, settings.page_workers)
            if settings.page_workers
            else None,
        )
        engine.base_index = base_index
        return engine

    def reloaded(self) -> Engine:
        """A new engine over the same index with the operator's title edits read anew (a title added,
        changed or removed while serving). The caller swaps it in and drops this one without closing it:
        requests in flight still use it, and the index is shared. Pages are drafted in-process from now
        on: page workers hold the old catalog."""
        if self.pages is not None:
            self.pages.close()
        settings = self.settings.model_copy(update={"page_workers": 0})
        return Engine.load(settings, self.dataset.name, dataset=None, index=self.base_index)

    # -- what the caller's latest request noted (per thread or task) --------------------------------

    @property
    def last_fallback(self) -> str | None:
        """Why this thread's (or task's) latest request was served from the popularity fallback, or None."""
        return current_trace().fallback

    @property
    def timer(self) -> StageTimer:
        """Milliseconds per stage of this thread's (or task's) latest request."""
        return current_trace().timer

    # -- profiles -------------------------------------------------------------------------------------

    def history(self, user_id: int) -> History:
        """A data set user's history, oldest first, as a profile would have it."""
        return self.profiles.history(user_id)

    def context_for(self, user_id: int, constraints: Constraints | None = None) -> Context:
        return self.profiles.context_for(user_id, constraints)

    def profile_context(
        self,
        profile_id: str,
        *,
        region: str | None = None,
        device: str | None = None,
        now: float | None = None,
    ) -> Context:
        """A stored profile as of its latest events: its history, maturity limit and region."""
        return self.profiles.profile_context(profile_id, region=region, device=device, now=now)

    def segment(self, context: Context) -> str:
        return self.profiles.segment(context)

    def record(self, events: Sequence[Event]) -> list[bool]:
        """Store events (all or none; a repeated event id is stored once) and learn from the new ones:
        an impression is a trial of its artwork and row, a play from one a success."""
        return self.feedback.record(events)

    # -- requests -------------------------------------------------------------------------------------

    def candidates(self, context: Context) -> CandidateSet:
        """Every source's candidates, merged; popular titles filtered in memory if the index is down."""
        return self.lists.candidates(context, new_trace())

    def recommend(self, context: Context, k: int = 10) -> list[Recommendation]:
        """A ranked, diversified list under the context's constraints, each pick with its provenance."""
        return self.lists.recommend(context, k, new_trace())

    def search(
        self, query: str, context: Context, k: int = 20, *, intent: SearchIntent | None = None
    ) -> list[Recommendation]:
        """Titles for a search query, ordered for this profile: a title typed in full first; the genres,
        people and era of `intent` (the query as the caller read it) as filters ranked by the profile's
        taste with a popularity prior; its text (a mood, a description) matched against the catalog's.
        Without an intent the query is matched as a name and as text.

        Seen titles stay findable: people search for what they know.
        """
        return self.searcher.search(query, context, k, intent, new_trace())

    def allowed(self, title_id: int, context: Context) -> bool:
        """Whether this title may be offered under the context: its maturity, region, constraints and
        exclusions. Seen titles pass; whether to offer a rewatch is the caller's choice."""
        return self.lists.allowed(title_id, context)

    def similar(self, title_id: int, context: Context | None = None, k: int = 20) -> list[Recommendation]:
        """More like one title: its ALS neighbours and its content neighbours, personalized when a profile
        is given (its seen and disliked titles left out)."""
        return self.lists.similar(title_id, context, k, new_trace())

    def post_watch(self, context: Context, title_id: int, k: int = 10) -> list[Recommendation]:
        """What to play next after finishing a title: its neighbours, ranked for a profile that saw it."""
        return self.lists.post_watch(context, title_id, k, new_trace())

    def popular_in_genres(self, context: Context, genres: Sequence[str], k: int = 3) -> dict[str, list[int]]:
        """The k most watched titles of each genre that this profile may see (maturity, region): seeds for
        a profile that has only named genres. Its history is ignored, so the same request gives the same
        seeds."""
        return self.lists.popular_in_genres(context, genres, k)

    def my_list(self, context: Context) -> Row:
        """The titles this profile saved for later, newest first (finished or removed ones have left), as
        the homepage's My List row; its items are empty when nothing is saved."""
        return my_list_row(self.dataset.titles, context)

    def rows(
        self,
        context: Context,
        arm: str | None = None,
        *,
        experiment: ExperimentSettings | None = None,
        ahead: bool = False,
    ) -> list[Row]:
        """The homepage: rows ordered for this profile, every item explained and given an artwork.

        With `arm` (an experiment arm such as "candidate_order" or "diversity_0.6", or "interleaved"),
        that arm serves this call only (nothing shared changes) and the page is logged with its latency
        and Top Picks diversity for the experiment's guardrails. "interleaved" builds Top Picks as a
        team-draft interleaving of the experiment's two arms, each item's reason naming its team.
        `experiment` defaults to the one in the engine's settings. A page built `ahead` of any request for
        it (a cache refresh) is not logged: nobody was served it yet.
        """
        experiment = experiment or self.settings.experiment
        trace, started = new_trace(), time.perf_counter()

        def here() -> Draft:
            return self.homepage.draft(context, arm=arm, experiment=experiment, trace=trace)

        draft = (
            here()
            if self.pages is None
            else self.pages.draft(context, arm=arm, experiment=experiment, local=here)
        )
        trace.fallback = draft.fallback  # a worker's draft reports what its own trace noted
        trace.timer.last.update(draft.stages)
        return self.homepage.present(
            context, draft, arm=arm, experiment=experiment, trace=trace, started=None if ahead else started
        )

    def draft(self, context: Context, arm: str | None = None, *, experiment: ExperimentSettings) -> Draft:
        """A page's rows before presentation (no row order, no artwork): what a page worker makes."""
        return self.homepage.draft(context, arm=arm, experiment=experiment, trace=new_trace())

    def close(self) -> None:
        if self.pages is not None:
            self.pages.close()
        self.index.close()
        self.artwork.close()
        self.row_order.close()
        self.store.close()
        self.page_log.close()
