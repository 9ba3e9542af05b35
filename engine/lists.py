"""Stage 1 at serving time and the ranked lists built on it: recommend, similar, play next.

Everything here reads shared, never-changing parts (the index, the models, the catalog), and what one
request learns about itself goes to its own `Trace`, so any number of requests may run at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

import numpy as np

from catalog import Context, Dataset, History, Title
from engine.config import Settings
from engine.errors import UnknownTitleError
from engine.periods import data_now
from engine.ranking import candidate_pool, source_k
from engine.results import Recommendation
from engine.trace import Trace
from ranker.pipeline import Stage2
from retrieval import (
    CF,
    CONTENT,
    CONTENT_KIND,
    SOURCES,
    Candidate,
    CandidateSet,
    CandidateSource,
    IndexUnavailableError,
    PoolFusion,
    PopularityFallback,
    TitleFilter,
    TitleIndex,
    merge,
    title_filter,
)

_T = TypeVar("_T")

# How much a stated mood or reference title outweighs the profile's taste when ordering picks.
ASKED_WEIGHT = 0.6


class Lists:
    def __init__(
        self,
        *,
        settings: Settings,
        dataset: Dataset,
        index: TitleIndex,
        sources: Sequence[CandidateSource],
        fusion: PoolFusion | None,
        stage2: Stage2,
    ) -> None:
        self.settings = settings
        self._dataset = dataset
        self.index = index
        self._sources = list(sources)
        self._fusion = fusion
        self._stage2 = stage2
        self.popular = PopularityFallback(
            dataset.titles,
            dict(zip(stage2.stats.ids.tolist(), stage2.stats.popularity["all"].tolist(), strict=True)),
            stage2.business,
        )
        self.content = CONTENT_KIND.among(sources)

    def candidates(self, context: Context, trace: Trace) -> CandidateSet:
        """Every source's candidates, merged; popular titles filtered in memory if the index is down."""
        k = self.settings.ranker.candidates_per_source
        with trace.timer.stage("candidates"):
            lists = index_or_none(
                self.index,
                lambda: [
                    source.candidates(context=context, k=source_k(self.settings, source.name, self._fusion))
                    for source in self._sources
                ],
                trace,
            )
            if lists is None:
                # The fusion never saw this stand-in's lists: they are pooled by the quotas' merge.
                offline = [s for s in self._sources if s.name in SOURCES.index_free]
                lists = [self.popular.candidates(context=context, k=k)]
                lists += [s.candidates(context=context, k=k) for s in offline]
                return candidate_pool(self.settings, lists)
            return candidate_pool(self.settings, lists, self._fusion, len(context.history))

    def recommend(self, context: Context, k: int, trace: Trace) -> list[Recommendation]:
        asked = context.constraints
        if asked.mood or asked.reference_titles:
            # A stated mood or reference titles lead: their content neighbours, ordered by closeness to
            # what was asked blended with this profile's taste.
            with trace.timer.stage("candidates"):
                found = index_or_none(
                    self.index,
                    lambda: self.content.candidates(
                        context=context, k=self.settings.ranker.candidates_per_source
                    ),
                    trace,
                )
            if found is not None:
                with trace.timer.stage("rank"):
                    return self._personalized(context, merge([found]), k, text_weight=ASKED_WEIGHT)
            # Index away: popular titles under the same constraints stand in for the mood's neighbours.
        candidates = self.candidates(context, trace).without_only(SOURCES.proposing_seen)
        with trace.timer.stage("rank"):
            picked = self._stage2.top(context=context, candidates=candidates, k=k)
        return self.as_recommendations(candidates, picked)

    def allowed(self, title_id: int, context: Context) -> bool:
        return title_id in self._dataset.titles and self.popular.passes(
            title_id, title_filter(context, allow_seen=True)
        )

    def similar(self, title_id: int, context: Context | None, k: int, trace: Trace) -> list[Recommendation]:
        anchor = self.title(title_id)
        base = context or Context(profile_id="anonymous", now=data_now(self._dataset))
        where = title_filter(base)
        where = replace(where, exclude_ids=where.exclude_ids | {title_id})
        lists = index_or_none(self.index, lambda: self._neighbours(anchor, where, k), trace)
        if lists is None:
            # Index away: the anchor's genres' popular titles, under the same filters.
            scoped = replace(base, constraints=replace(base.constraints, genres=tuple(anchor.genres)))
            popular = self.popular.candidates(context=scoped, k=k * 3)
            lists = [[c for c in popular if c.title_id != title_id]]
        candidates = merge(lists)
        if context is None:
            return self.as_recommendations(candidates, candidates.ids[:k])
        return self._personalized(context, candidates, k, text_weight=0.5)

    def _neighbours(self, anchor: Title, where: TitleFilter, k: int) -> list[list[Candidate]]:
        lists = []
        for vector in (CF, CONTENT):
            found = self.index.vectors(vector=vector, ids=[anchor.id]).get(anchor.id)
            if found is None:
                continue
            hits = self.index.search(
                vector=vector, query=found / (np.linalg.norm(found) or 1.0), k=k * 3, where=where
            )
            lists.append(
                [
                    Candidate(h.id, f"similar_{vector}", h.score, r, f"More like {anchor.name}", anchor.id)
                    for r, h in enumerate(hits)
                ]
            )
        return lists

    def post_watch(self, context: Context, title_id: int, k: int, trace: Trace) -> list[Recommendation]:
        self.title(title_id)
        history = context.history
        watched = History(
            items=np.append(history.items, title_id).astype(np.int64),
            weights=np.append(history.weights, 5.0).astype(np.float32),
            timestamps=np.append(history.timestamps, int(context.now)).astype(np.int64),
            in_progress=tuple(t for t in history.in_progress if t != title_id),
            disliked=history.disliked,
        )
        return self.similar(title_id, replace(context, history=watched), k, trace)

    def popular_in_genres(self, context: Context, genres: Sequence[str], k: int) -> dict[str, list[int]]:
        seeds = {}
        for genre in genres:
            scoped = replace(
                context, history=History(), constraints=replace(context.constraints, genres=(genre,))
            )
            seeds[genre] = [c.title_id for c in self.popular.candidates(context=scoped, k=k)]
        return seeds

    def title(self, title_id: int) -> Title:
        if title_id not in self._dataset.titles:
            raise UnknownTitleError(f"unknown title {title_id} in {self._dataset.name}")
        return self._dataset.titles[title_id]

    def _personalized(
        self, context: Context, candidates: CandidateSet, k: int, *, text_weight: float
    ) -> list[Recommendation]:
        """Blend the query's own order (fused rank) with the ranker's view of this profile."""
        if not len(candidates):
            return []
        relevance = self._stage2.relevance(context=context, candidates=candidates)
        score = text_weight * unit_range(candidates.scores) + (1 - text_weight) * unit_range(relevance)
        order = np.argsort(-score, kind="stable")[:k]
        return self.as_recommendations(candidates, candidates.ids[order])

    def as_recommendations(self, candidates: CandidateSet, picked: np.ndarray) -> list[Recommendation]:
        position = {int(t): i for i, t in enumerate(candidates.ids)}
        out = []
        for title_id in picked:
            i = position[int(title_id)]
            provenance = sorted(candidates.provenance[i], key=lambda c: c.rank)
            out.append(
                Recommendation(
                    title=self._dataset.titles[int(title_id)],
                    score=float(candidates.scores[i]),
                    sources=tuple(c.source for c in provenance),
                    reasons=tuple(c.reason for c in provenance),
                )
            )
        return out


def index_or_none(index: TitleIndex, query: Callable[[], _T], trace: Trace) -> _T | None:
    """`query()`'s answer, or None (noted on the trace) when the title index is unavailable: known to be
    down, when `query` is not even run (it would embed a text or fold in a profile for nothing), or
    failing the call."""
    down = index.known_down()
    if down is not None:
        trace.fallback = f"title index unavailable: {down}"
        return None
    try:
        return query()
    except IndexUnavailableError as exc:
        trace.fallback = f"title index unavailable: {exc}"
        return None


def unit_range(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, np.float64)
    span = values.max() - values.min() if len(values) else 0.0
    return (values - values.min()) / span if span > 0 else np.zeros(len(values))
