"""The serving facade: answers requests over parts built once (engine/assembly.py). Never trains.

Every method may be called from several threads at once. The parts a request reads (index, models,
catalog) never change after loading; what a request notes about itself (stage timings, a fallback)
goes to its own trace and comes back with its result; the few shared things that do change (the event
store, the bandits' counts, the experiment log) serialize their own writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from catalog import (
    Accounts,
    Constraints,
    Context,
    Dataset,
    Event,
    EventKind,
    History,
    Interactions,
    Store,
    Title,
)
from catalog.conversations import Conversations
from catalog.database import Database
from engine.arms import PageLog
from engine.artifacts import Manifest
from engine.config import ExperimentSettings, Settings
from engine.experiments import PageStore
from engine.feedback import Feedback
from engine.homepage import Draft, Homepage, my_list_row
from engine.lists import Lists
from engine.profiles import Profiles
from engine.results import Health, Page, Picks, Recommendation
from engine.search import Search, SearchIntent
from engine.title_edits import TitleEditStore
from engine.trace import Trace
from ranker import ArtworkBandit, RowOrderBandit
from ranker.pipeline import Stage2
from ranker.rows import Row
from retrieval import GENRE_KIND, CandidateSet, CandidateSource, PoolFusion, TextEmbedder, TitleIndex


class Drafts(Protocol):
    """Who makes page drafts when not this process (engine/pages.py's workers)."""

    @property
    def status(self) -> Literal["starting", "ready", "failed"]: ...

    def draft(
        self, context: Context, *, arm: str | None, experiment: ExperimentSettings, local: Callable[[], Draft]
    ) -> Draft: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Parts:
    """What an engine reads and never changes: built by the composition root (engine/assembly.py)."""

    settings: Settings
    dataset: Dataset
    index: TitleIndex  # what requests query; may wrap `base_index` (titles removed while serving)
    base_index: TitleIndex  # the index below any wrapper, which a reloaded engine reuses
    sources: list[CandidateSource]
    fusion: PoolFusion | None  # how the sources' lists make the ranker's pool (None: quotas)
    stage2: Stage2
    manifest: Manifest
    embedder: TextEmbedder  # the one copy of the text model in the process
    edits: TitleEditStore  # the operator's title edits, which `dataset` and `index` include
    catalog_version: int  # the edits' version when they were read


@dataclass(frozen=True)
class State:
    """What an engine writes: events, profiles and accounts, the bandits' counts, conversations, the
    experiment page log. Each in SQLite beside the process, or all in PostgreSQL shared by replicas."""

    store: Store
    artwork: ArtworkBandit
    row_order: RowOrderBandit
    conversations: Conversations
    pages: Callable[[], PageStore]  # opens the page log: called on the first page served under an arm
    database: Database | None = None  # the pool the PostgreSQL stores share, closed after them


class Engine:
    """The face every layer above uses: request methods with typed results, no public attributes.
    Built by `engine.assemble`; closing it closes what it was built with."""

    def __init__(
        self,
        parts: Parts,
        state: State,
        *,
        drafts: Drafts | None = None,
        owns_index: bool = True,
        on_close: Sequence[Callable[[], None]] = (),
    ) -> None:
        self._parts, self._state = parts, state
        self._owns_index = owns_index  # False: another engine's index, which that engine closes
        self._drafts = drafts  # None: drafts are made in this process
        self._on_close = list(on_close)
        settings, dataset, sources, stage2 = parts.settings, parts.dataset, parts.sources, parts.stage2
        self._degraded = stage2.ranker.is_fallback
        self._profiles = Profiles(dataset, state.store)
        self._lists = Lists(
            settings=settings,
            dataset=dataset,
            index=parts.index,
            sources=sources,
            fusion=parts.fusion,
            stage2=stage2,
        )
        self._searcher = Search(dataset=dataset, lists=self._lists, stage2=stage2)
        self._feedback = Feedback(
            store=state.store,
            artwork=state.artwork,
            row_order=state.row_order,
            history=self._profiles.stored_history,
            segment=self._profiles.segment,
        )
        self._page_log = PageLog(state.pages, stage2)
        self._homepage = Homepage(
            titles=dataset.titles,
            stage2=stage2,
            lists=self._lists,
            genres=GENRE_KIND.among(sources),
            artwork=state.artwork,
            row_order=state.row_order,
            segment=self._profiles.segment,
            page_log=self._page_log,
            seed=settings.seed,
            rows=settings.rows,
        )

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what it serves -------------------------------------------------------------------------------

    def settings(self) -> Settings:
        """The settings it was assembled with."""
        return self._parts.settings

    def dataset_name(self) -> str:
        return self._parts.dataset.name

    def title_edits(self) -> TitleEditStore:
        """Where the operator's title edits are kept: write one, then serve `reloaded(engine)`."""
        return self._parts.edits

    def catalog_changed(self) -> bool:
        """Whether the title edits moved on since this engine read them (another replica's operator
        wrote one): `reloaded(engine)` serves them. Raises StoreUnavailableError when their store is
        unreachable."""
        return self._parts.edits.version() != self._parts.catalog_version

    def titles(self) -> Mapping[int, Title]:
        """The catalog served, by id (titles an operator added while serving included)."""
        return self._parts.dataset.titles

    def interactions(self) -> Interactions:
        """The interactions it was built from (a training period's only, for an evaluation engine)."""
        return self._parts.dataset.interactions

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Texts as unit vectors in the catalog's text space (the model loads on first use)."""
        return self._parts.embedder.encode(list(texts))

    def accounts(self) -> Accounts:
        """Accounts and their profiles."""
        return self._state.store

    def conversations(self) -> Conversations:
        """Where the assistant keeps conversations: beside the other state, so replicas on one database
        continue each other's conversations. The engine closes it."""
        return self._state.conversations

    def events(self, profile_id: str, kinds: Sequence[EventKind | str] | None = None) -> list[Event]:
        """A profile's stored events, oldest first; only `kinds` when given."""
        return self._state.store.events(profile_id, kinds=kinds)

    def warm(self) -> None:
        """Build what the first requests would otherwise build (the catalog's word index for search), so
        a server pays for it while loading, not on a viewer's first search."""
        self._searcher.lexical()

    def health(self) -> Health:
        """Whether it serves degraded, and why: the ranker missing, or the title index unreachable (then
        lists come from in-memory popularity). Touches the index the way a request would."""
        reasons = ["ranker unavailable: rows in candidate order"] if self._degraded else []
        try:
            self._parts.index.count()
        except Exception as exc:  # any failure here is "serving from popularity", and the reason is the point
            reasons.append(f"title index unreachable, serving in-memory popularity: {exc}")
        return Health(
            dataset=self._parts.dataset.name,
            built=self._parts.manifest.created,
            ranker=self._parts.stage2.ranker.kind,
            reasons=tuple(reasons),
            page_workers=self._drafts.status if self._drafts is not None else None,
        )

    # -- profiles -------------------------------------------------------------------------------------

    def history(self, user_id: int) -> History:
        """A data set user's history, oldest first, as a profile would have it."""
        return self._profiles.history(user_id)

    def context_for(self, user_id: int, constraints: Constraints | None = None) -> Context:
        return self._profiles.context_for(user_id, constraints)

    def profile_context(
        self,
        profile_id: str,
        *,
        region: str | None = None,
        device: str | None = None,
        now: float | None = None,
    ) -> Context:
        """A stored profile as of its latest events: its history, maturity limit and region."""
        return self._profiles.profile_context(profile_id, region=region, device=device, now=now)

    def segment(self, context: Context) -> str:
        return self._profiles.segment(context)

    def record(self, events: Sequence[Event]) -> list[bool]:
        """Store events (all or none; a repeated event id is stored once) and learn from the new ones:
        an impression is a trial of its artwork and row, a play from one a success."""
        return self._feedback.record(events)

    # -- requests -------------------------------------------------------------------------------------

    def candidates(self, context: Context) -> CandidateSet:
        """Every source's candidates, merged; popular titles filtered in memory if the index is down."""
        return self._lists.candidates(context, Trace())

    def recommend(self, context: Context, k: int = 10) -> Picks:
        """A ranked, diversified list under the context's constraints, each pick with its provenance."""
        trace = Trace()
        return self._picks(self._lists.recommend(context, k, trace), trace)

    def search(
        self, query: str, context: Context, k: int = 20, *, intent: SearchIntent | None = None
    ) -> Picks:
        """Titles for a search query, ordered for this profile: a title typed in full first; the genres,
        people and era of `intent` (the query as the caller read it) as filters ranked by the profile's
        taste with a popularity prior; its text (a mood, a description) matched against the catalog's.
        Without an intent the query is matched as a name and as text.

        Seen titles stay findable: people search for what they know.
        """
        trace = Trace()
        return self._picks(self._searcher.search(query, context, k, intent, trace), trace)

    def allowed(self, title_id: int, context: Context) -> bool:
        """Whether this title may be offered under the context: its maturity, region, constraints and
        exclusions. Seen titles pass; whether to offer a rewatch is the caller's choice."""
        return self._lists.allowed(title_id, context)

    def similar(self, title_id: int, context: Context | None = None, k: int = 20) -> Picks:
        """More like one title: its ALS neighbours and its content neighbours, personalized when a profile
        is given (its seen and disliked titles left out)."""
        trace = Trace()
        return self._picks(self._lists.similar(title_id, context, k, trace), trace)

    def post_watch(self, context: Context, title_id: int, k: int = 10) -> Picks:
        """What to play next after finishing a title: its neighbours, ranked for a profile that saw it."""
        trace = Trace()
        return self._picks(self._lists.post_watch(context, title_id, k, trace), trace)

    def popular_in_genres(self, context: Context, genres: Sequence[str], k: int = 3) -> dict[str, list[int]]:
        """The k most watched titles of each genre that this profile may see (maturity, region): seeds for
        a profile that has only named genres. Its history is ignored, so the same request gives the same
        seeds."""
        return self._lists.popular_in_genres(context, genres, k)

    def my_list(self, context: Context) -> Row:
        """The titles this profile saved for later, newest first (finished or removed ones have left), as
        the homepage's My List row; its items are empty when nothing is saved."""
        return my_list_row(self._parts.dataset.titles, context)

    def rows(
        self,
        context: Context,
        arm: str | None = None,
        *,
        experiment: ExperimentSettings | None = None,
        ahead: bool = False,
    ) -> Page:
        """The homepage: rows ordered for this profile, every item explained and given an artwork.

        With `arm` (an experiment arm such as "candidate_order" or "diversity_0.6", or "interleaved"),
        that arm serves this call only (nothing shared changes) and the page is logged with its latency
        and Top Picks diversity for the experiment's guardrails. "interleaved" builds Top Picks as a
        team-draft interleaving of the experiment's two arms, each item's reason naming its team.
        `experiment` defaults to the one in the engine's settings. A page built `ahead` of any request for
        it (a cache refresh) is not logged: nobody was served it yet.
        """
        experiment = experiment or self._parts.settings.experiment
        trace, started = Trace(), time.perf_counter()

        def here() -> Draft:
            return self._homepage.draft(context, arm=arm, experiment=experiment, trace=trace)

        draft = (
            here()
            if self._drafts is None
            else self._drafts.draft(context, arm=arm, experiment=experiment, local=here)
        )
        trace.fallback = draft.fallback  # a worker's draft reports what its own trace noted
        trace.timer.last.update(draft.stages)
        rows = self._homepage.present(
            context, draft, arm=arm, experiment=experiment, trace=trace, started=None if ahead else started
        )
        return Page(rows, ranker_fallback=self._degraded, fallback=trace.fallback, timings=trace.timer.last)

    def draft(self, context: Context, arm: str | None = None, *, experiment: ExperimentSettings) -> Draft:
        """A page's rows before presentation (no row order, no artwork): what a page worker makes."""
        return self._homepage.draft(context, arm=arm, experiment=experiment, trace=Trace())

    def close(self) -> None:
        if self._drafts is not None:
            self._drafts.close()
        if self._owns_index:
            self._parts.index.close()
        state = self._state
        for part in (state.artwork, state.row_order, state.store, state.conversations, self._page_log):
            part.close()
        if state.database is not None:
            state.database.close()
        for step in self._on_close:
            step()

    def _picks(self, found: list[Recommendation], trace: Trace) -> Picks:
        return Picks(found, ranker_fallback=self._degraded, fallback=trace.fallback, timings=trace.timer.last)
