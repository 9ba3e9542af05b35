"""The serving facade: loads built artifacts once and answers requests. Never trains."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from catalog import (
    Constraints,
    Context,
    Dataset,
    Event,
    EventKind,
    EventStore,
    History,
    Title,
    UnknownProfileError,
    allowed_maturity,
    history_from_events,
    load_dataset,
)
from engine.artifacts import Manifest
from engine.build import ALS_FILE, content_vectors, data_now
from engine.config import Settings
from engine.errors import ArtifactsMissingError, StaleArtifactsError, UnknownTitleError, UnknownUserError
from engine.experiments import (
    EXPERIMENTS_FILE,
    INTERLEAVED,
    ServedPage,
    ServedPages,
    interleave_top_picks,
    parse_arm,
)
from engine.indexes import open_index
from engine.progress import Silent
from engine.ranking import RANKER_DIR, SIMILARITY_FILE, STATS_FILE, StageOne, feature_builder, stage_two
from engine.results import Recommendation, StageTimer
from engine.titlenames import TitleNames
from engine.wiring import REWATCH_SOURCES, make_sources
from ranker import (
    VARIANTS,
    ArtworkBandit,
    LTRRanker,
    RowOrderBandit,
    SourceOrderRanker,
    TitleStats,
    intra_list_diversity,
    load_ranker,
    taste_segment,
    variants_for,
)
from ranker.pipeline import Stage2
from ranker.rows import PINNED, Row, RowBuilder, RowsConfig
from retrieval import (
    CF,
    CONTENT,
    ALSModel,
    Candidate,
    CandidateSet,
    CandidateSource,
    ContentSource,
    GenreSource,
    IndexUnavailableError,
    ItemSimilarity,
    PopularityFallback,
    TextEmbedder,
    TitleIndex,
    merge,
    title_filter,
)

BANDITS_FILE = "bandits.sqlite"
EVENTS_FILE = "events.sqlite"


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
    ) -> None:
        self.settings = settings
        self.dataset = dataset
        self.index = index
        self.sources = sources
        self.stage2 = stage2
        self.manifest = manifest
        self.artwork = artwork
        self.row_order = row_order
        self.store = store
        self.degraded = not isinstance(stage2.ranker, LTRRanker)
        self.timer = StageTimer()
        # Why the last request was served from the popularity fallback (None when it was not).
        self.last_fallback: str | None = None
        self._fallback = PopularityFallback(
            dataset.titles,
            dict(zip(stage2.stats.ids.tolist(), stage2.stats.popularity["all"].tolist(), strict=True)),
            stage2.business,
        )
        watched = stage2.stats.popularity["all"]
        watched = watched[watched > 0]
        head = float(np.quantile(watched, RowsConfig().long_tail_quantile)) if len(watched) else None
        self._rows = RowBuilder(dataset.titles, head_popularity=head)
        self._genres = GenreSource(index, dataset.titles)
        self._histories = dataset.interactions.items_by_user()
        self._content = next(s for s in sources if isinstance(s, ContentSource))
        self._names = TitleNames(dataset.titles)
        self._rng = np.random.default_rng(settings.seed)
        self._served_pages: ServedPages | None = None  # opened on the first page served under an arm

    @classmethod
    def load(cls, settings: Settings, dataset_name: str, *, dataset: Dataset | None = None) -> Engine:
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
        # The ranker may be missing (degraded mode); stage 1 and the features may not.
        lacking = [name for name in (ALS_FILE, STATS_FILE, SIMILARITY_FILE) if not (folder / name).is_file()]
        if lacking:
            raise ArtifactsMissingError(
                f"artifacts in {folder} lack {', '.join(lacking)} (built by an older version?); "
                f"run `marquee build --dataset {dataset_name}`"
            )
        als = ALSModel.load(folder / ALS_FILE)
        index = open_index(settings, dataset_name)
        embedder = TextEmbedder()  # loads its model on the first free-text query only
        sources = make_sources(
            settings, index, als, dataset.titles, embed=lambda text: embedder.encode([text])[0]
        )
        # Vectors come from the build's cache: no model load when every title is cached.
        content = content_vectors(settings, dataset, Silent(), embedder)
        stats = TitleStats.load(folder / STATS_FILE)
        similarity = ItemSimilarity.load(folder / SIMILARITY_FILE)
        features = feature_builder(dataset, stats, als, content, similarity)
        one = StageOne(als=als, stats=stats, features=features, now=data_now(dataset))
        stage2 = stage_two(
            settings, dataset, one, content, load_ranker(folder / RANKER_DIR, names=one.features.names)
        )
        state = settings.dataset_state(dataset_name)
        state.mkdir(parents=True, exist_ok=True)
        return cls(
            settings=settings,
            dataset=dataset,
            index=index,
            sources=sources,
            stage2=stage2,
            manifest=manifest,
            artwork=ArtworkBandit.open(state / BANDITS_FILE),
            row_order=RowOrderBandit.open(state / BANDITS_FILE),
            store=EventStore(state / EVENTS_FILE),
        )

    # -- profiles of the data set ---------------------------------------------------------------

    def history(self, user_id: int) -> History:
        """A data set user's history, oldest first, as a profile would have it."""
        if user_id not in self._histories:
            users = sorted(self._histories)
            raise UnknownUserError(
                f"unknown user {user_id} in {self.dataset.name}; valid: {users[0]}..{users[-1]} "
                f"({len(users)} users)"
            )
        inter = self.dataset.interactions
        mask = inter.users == user_id
        order = np.argsort(inter.timestamps[mask], kind="stable")
        return History(
            items=inter.items[mask][order],
            weights=inter.ratings[mask][order],
            timestamps=inter.timestamps[mask][order],
        )

    def context_for(self, user_id: int, constraints: Constraints | None = None) -> Context:
        return Context(
            profile_id=str(user_id),
            history=self.history(user_id),
            constraints=constraints or Constraints(),
            now=data_now(self.dataset),
        )

    # -- profiles of the event store --------------------------------------------------------------

    def profile_context(
        self,
        profile_id: str,
        *,
        region: str | None = None,
        device: str | None = None,
        now: float | None = None,
    ) -> Context:
        """A stored profile as of its latest events: its history, maturity limit and region."""
        profile = self.store.profile(profile_id)
        if profile is None:
            raise UnknownProfileError(f"unknown profile {profile_id!r}")
        return Context(
            profile_id=profile_id,
            history=history_from_events(self.store.events(profile_id)),
            constraints=Constraints(maturity=allowed_maturity(profile.maturity_limit)),
            now=time.time() if now is None else now,
            region=region or profile.region,
            device=device,
        )

    def record(self, events: Sequence[Event]) -> list[bool]:
        """Store events (all or none; a repeated event id is stored once) and learn from the new ones:
        an impression is a trial of its artwork and row, a play from one a success."""
        stored = self.store.append(events)
        segments: dict[str, str] = {}
        for event, new in zip(events, stored, strict=True):
            if not new or event.kind not in (EventKind.IMPRESSION, EventKind.PLAY):
                continue
            if event.profile_id not in segments:
                history = history_from_events(self.store.events(event.profile_id))
                segments[event.profile_id] = self.segment(
                    Context(profile_id=event.profile_id, history=history)
                )
            segment, taken = segments[event.profile_id], event.kind == EventKind.PLAY
            artwork = event.context.get("artwork")
            if isinstance(artwork, str) and artwork in VARIANTS:
                self.artwork.update(title_id=event.title_id, segment=segment, variant=artwork, reward=taken)
            if event.row:
                self.row_order.update(segment, event.row.split(":")[0], taken)
        return stored

    # -- requests ---------------------------------------------------------------------------------

    def candidates(self, context: Context) -> CandidateSet:
        """Every source's candidates, merged; popular titles filtered in memory if the index is down."""
        k = self.settings.ranker.candidates_per_source
        self.last_fallback = None
        with self.timer.stage("candidates"):
            try:
                lists = [source.candidates(context=context, k=k) for source in self.sources]
            except IndexUnavailableError as exc:
                self.last_fallback = f"title index unavailable: {exc}"
                offline = [s for s in self.sources if s.name in REWATCH_SOURCES]
                lists = [self._fallback.candidates(context=context, k=k)]
                lists += [s.candidates(context=context, k=k) for s in offline]
            merged = merge(lists)
        return merged.top(self.settings.ranker.candidates)

    def recommend(self, context: Context, k: int = 10) -> list[Recommendation]:
        """A ranked, diversified list under the context's constraints, each pick with its provenance."""
        self.timer.last = {}
        candidates = self.candidates(context).without_only(REWATCH_SOURCES)
        with self.timer.stage("rank"):
            picked = self.stage2.top(context=context, candidates=candidates, k=k)
        return self._as_recommendations(candidates, picked)

    def search(self, query: str, context: Context, k: int = 20) -> list[Recommendation]:
        """Titles matching a free-text query (names fuzzily, themes by embedding), ordered for this profile.

        Seen titles stay findable: people search for what they know.
        """
        query = query.strip()
        if not query:
            return []
        open_context = replace(context, history=History(), query=query)
        by_name = self._names.matches(query, k)
        by_theme = self._content.candidates(context=open_context, k=k * 3)
        candidates = merge([by_name, by_theme], weights={"title_match": 2.0})
        return self._personalized(context, candidates, k, text_weight=0.7)

    def similar(self, title_id: int, context: Context | None = None, k: int = 20) -> list[Recommendation]:
        """More like one title: its ALS neighbours and its content neighbours, personalized when a profile
        is given (its seen and disliked titles left out)."""
        anchor = self._title(title_id)
        base = context or Context(profile_id="anonymous", now=data_now(self.dataset))
        where = title_filter(base)
        where = replace(where, exclude_ids=where.exclude_ids | {title_id})
        lists = []
        for vector in (CF, CONTENT):
            found = self.index.vectors(vector=vector, ids=[title_id]).get(title_id)
            if found is None:
                continue
            hits = self.index.search(
                vector=vector, query=found / (np.linalg.norm(found) or 1.0), k=k * 3, where=where
            )
            lists.append(
                [
                    Candidate(h.id, f"similar_{vector}", h.score, r, f"More like {anchor.name}", title_id)
                    for r, h in enumerate(hits)
                ]
            )
        candidates = merge(lists)
        if context is None:
            return self._as_recommendations(candidates, candidates.ids[:k])
        return self._personalized(context, candidates, k, text_weight=0.5)

    def post_watch(self, context: Context, title_id: int, k: int = 10) -> list[Recommendation]:
        """What to play next after finishing a title: its neighbours, ranked for a profile that saw it."""
        self._title(title_id)
        history = context.history
        watched = History(
            items=np.append(history.items, title_id).astype(np.int64),
            weights=np.append(history.weights, 5.0).astype(np.float32),
            timestamps=np.append(history.timestamps, int(context.now)).astype(np.int64),
            in_progress=tuple(t for t in history.in_progress if t != title_id),
            disliked=history.disliked,
        )
        return self.similar(title_id, replace(context, history=watched), k=k)

    def popular_in_genres(self, context: Context, genres: Sequence[str], k: int = 3) -> dict[str, list[int]]:
        """The k most watched titles of each genre that this profile may see (maturity, region): seeds for
        a profile that has only named genres. Its history is ignored, so the same request gives the same
        seeds."""
        seeds = {}
        for genre in genres:
            scoped = replace(
                context, history=History(), constraints=replace(context.constraints, genres=(genre,))
            )
            seeds[genre] = [c.title_id for c in self._fallback.candidates(context=scoped, k=k)]
        return seeds

    def _title(self, title_id: int) -> Title:
        if title_id not in self.dataset.titles:
            raise UnknownTitleError(f"unknown title {title_id} in {self.dataset.name}")
        return self.dataset.titles[title_id]

    def _personalized(
        self, context: Context, candidates: CandidateSet, k: int, *, text_weight: float
    ) -> list[Recommendation]:
        """Blend the query's own order (fused rank) with the ranker's view of this profile."""
        if not len(candidates):
            return []
        relevance = self.stage2.relevance(context=context, candidates=candidates)
        score = text_weight * _unit_range(candidates.scores) + (1 - text_weight) * _unit_range(relevance)
        order = np.argsort(-score, kind="stable")[:k]
        return self._as_recommendations(candidates, candidates.ids[order])

    def _as_recommendations(self, candidates: CandidateSet, picked: np.ndarray) -> list[Recommendation]:
        position = {int(t): i for i, t in enumerate(candidates.ids)}
        out = []
        for title_id in picked:
            i = position[int(title_id)]
            provenance = sorted(candidates.provenance[i], key=lambda c: c.rank)
            out.append(
                Recommendation(
                    title=self.dataset.titles[int(title_id)],
                    score=float(candidates.scores[i]),
                    sources=tuple(c.source for c in provenance),
                    reasons=tuple(c.reason for c in provenance),
                )
            )
        return out

    def rows(self, context: Context, arm: str | None = None) -> list[Row]:
        """The homepage: rows ordered for this profile, every item explained and given an artwork.

        With `arm` (an experiment arm such as "candidate_order" or "diversity_0.6", or "interleaved"),
        that arm serves this call only (nothing shared changes) and the page is logged with its latency
        and Top Picks diversity for the experiment's guardrails. "interleaved" builds Top Picks as a
        team-draft interleaving of the configured experiment's two arms, each item's reason naming its team.
        """
        started = time.perf_counter()
        self.timer.last = {}
        candidates = self.candidates(context)
        teams: dict[int, str] = {}
        if arm == INTERLEAVED:
            rows, teams = self._interleaved_rows(context, candidates)
        else:
            rows = self._ranked_rows(context, candidates, arm)
        with self.timer.stage("rows"):
            segment = self.segment(context)
            kinds = list(dict.fromkeys(r.kind for r in rows))
            order = self.row_order.order(segment, kinds, self._rng, pinned=[k for k in PINNED if k in kinds])
            rows = sorted(rows, key=lambda r: (order.index(r.kind), rows.index(r)))
        with self.timer.stage("artwork"):
            rows = [self._with_artwork(row, segment) for row in rows]
        if arm is not None:
            self._log_page(context, arm, rows, (time.perf_counter() - started) * 1000, teams)
        return rows

    def _arm(self, arm: str | None) -> tuple[Stage2, RowBuilder]:
        """Stage 2 and the row builder one arm serves with: copies, so shared state never changes."""
        if arm is None:
            return self.stage2, self._rows
        spec = parse_arm(arm)
        stage2, builder = self.stage2, self._rows
        if spec.ranker == "candidate_order":
            stage2 = replace(stage2, ranker=SourceOrderRanker(names=stage2.features.names))
        if spec.diversity is not None:
            stage2 = replace(stage2, weights=replace(stage2.weights, diversity=spec.diversity))
            builder = replace(builder, config=replace(builder.config, trade_off=1.0 - spec.diversity))
        return stage2, builder

    def _ranked_rows(self, context: Context, candidates: CandidateSet, arm: str | None) -> list[Row]:
        stage2, builder = self._arm(arm)
        with self.timer.stage("rank"):
            scored = stage2.score(context=context, candidates=candidates)
        with self.timer.stage("rows"):
            favourites = self._genres.favourite_genres(context)
            return builder.build(scored=scored, favourite_genres=favourites, rng=self._rng)

    def _interleaved_rows(
        self, context: Context, candidates: CandidateSet
    ) -> tuple[list[Row], dict[int, str]]:
        """The first arm's page with Top Picks team-drafted from both arms' Top Picks."""
        experiment = self.settings.experiment
        if experiment.mode != "interleave" or len(experiment.arms) != 2:
            raise ValueError(
                f"{INTERLEAVED!r} needs an interleave experiment of two arms; configured: "
                f"mode {experiment.mode!r}, arms {experiment.arms}"
            )
        first, second = experiment.arms
        rows = self._ranked_rows(context, candidates, first)
        other = self._ranked_rows(context, candidates, second)
        return interleave_top_picks(rows, other, (first, second), self._rng)

    def _log_page(
        self, context: Context, arm: str, rows: list[Row], latency_ms: float, teams: dict[int, str]
    ) -> None:
        top = next((r for r in rows if r.kind == "top_picks"), None)
        ids = np.array([i.title_id for i in top.items] if top else [], np.int64)
        if self._served_pages is None:
            state = self.settings.dataset_state(self.dataset.name)
            state.mkdir(parents=True, exist_ok=True)
            self._served_pages = ServedPages(state / EXPERIMENTS_FILE)
        self._served_pages.add(
            ServedPage(
                profile_id=context.profile_id,
                experiment=self.settings.experiment.name,
                arm=arm,
                ts=time.time(),
                latency_ms=latency_ms,
                ild=intra_list_diversity(self.stage2.vectors(ids)) if len(ids) else 0.0,
                teams=teams or None,
            )
        )

    def segment(self, context: Context) -> str:
        counts: dict[str, float] = {}
        for t in context.history.liked():
            for g in self.dataset.titles.get(int(t), _NO_TITLE).genres:
                counts[g] = counts.get(g, 0.0) + 1.0
        return taste_segment(counts)

    def _with_artwork(self, row: Row, segment: str) -> Row:
        items = []
        for item in row.items:
            variants = variants_for(self.dataset.titles[item.title_id])
            variant = self.artwork.choose(
                title_id=item.title_id, segment=segment, variants=variants, rng=self._rng
            )
            items.append(replace(item, artwork=variant))
        return Row(row.id, row.heading, row.kind, tuple(items))

    def close(self) -> None:
        self.index.close()
        self.artwork.close()
        self.row_order.close()
        self.store.close()
        if self._served_pages is not None:
            self._served_pages.close()


_NO_TITLE = Title(id=-1, name="", year=None, genres=())


def _unit_range(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, np.float64)
    span = values.max() - values.min() if len(values) else 0.0
    return (values - values.min()) / span if span > 0 else np.zeros(len(values))
