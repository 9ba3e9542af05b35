"""The homepage: ranked rows ordered for the profile, each item with an artwork variant.

A page is made in two steps. `draft` does the heavy, read-only part (candidates, ranking, row assembly)
and may run in another process (engine/pages.py); `present` orders the rows and draws artwork with the
bandits' live counts, where the events that teach them arrive.

A request's random draws (exploration, team-draft coin flips, bandit sampling) come from generators of
its own, one per step, seeded by what the request is, so no generator is shared between threads or
processes and the same request (same profile, moment, history and arm, same bandit counts) gets the same
page wherever its draft was made.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from catalog import Context, Title
from engine.arms import Arms, PageLog
from engine.config import ExperimentSettings
from engine.experiments import INTERLEAVED, interleave_top_picks
from engine.lists import Lists
from engine.trace import Trace
from ranker import ArtworkBandit, RowOrderBandit, variants_for
from ranker.pipeline import Stage2
from ranker.rows import PINNED, Row, RowBuilder, RowItem, RowKind, RowsConfig
from retrieval import CandidateSet, GenreSource

# The row of the titles a profile saved for later, kept right under the pinned rows.
MY_LIST = RowKind.MY_LIST
ON_MY_LIST = ("On your list", {"source": "my_list"})


@dataclass(frozen=True)
class Draft:
    """A page before presentation: rows in their default order, without artwork."""

    rows: list[Row]
    teams: dict[int, str]  # interleaving: the arm each Top Picks title came from
    fallback: str | None = None  # why stage 1 served popular titles, if it did
    stages: dict[str, float] = field(default_factory=dict, compare=False)  # milliseconds per stage


def my_list_row(titles: Mapping[int, Title], context: Context) -> Row:
    """The profile's My List, newest first, without titles the catalog no longer has; maybe empty."""
    text, reason = ON_MY_LIST
    listed = [titles[t] for t in context.history.my_list if t in titles]
    items = tuple(RowItem(t.id, t.name, t.year, text, reason, 0.0) for t in listed)
    return Row(MY_LIST, "My List", MY_LIST, items)


def request_rng(seed: int, context: Context, arm: str | None, step: str) -> np.random.Generator:
    """The generator of one step of one request, from the engine's seed and what the request is."""
    key = f"{step}|{context.profile_id}|{context.now!r}|{len(context.history)}|{arm}".encode()
    words = np.frombuffer(hashlib.blake2b(key, digest_size=16).digest(), np.uint32)
    return np.random.default_rng([seed, *words.tolist()])


class Homepage:
    def __init__(
        self,
        *,
        titles: Mapping[int, Title],
        stage2: Stage2,
        lists: Lists,
        genres: GenreSource,
        artwork: ArtworkBandit,
        row_order: RowOrderBandit,
        segment: Callable[[Context], str],
        page_log: PageLog,
        seed: int,
        rows: RowsConfig,
    ) -> None:
        watched = stage2.stats.popularity["all"]
        watched = watched[watched > 0]
        head = float(np.quantile(watched, rows.long_tail_quantile)) if len(watched) else None
        self.builder = RowBuilder(titles, rows, stage2.weights, head_popularity=head)
        self.arms = Arms(stage2, self.builder)
        self._lists = lists
        self._genres = genres
        self._artwork = artwork
        self._row_order = row_order
        self._segment = segment
        self._log = page_log
        self._seed = seed
        self._variants = {t: variants_for(title) for t, title in titles.items()}  # fixed per title

    def draft(
        self, context: Context, *, arm: str | None, experiment: ExperimentSettings, trace: Trace
    ) -> Draft:
        """Candidates, ranking and rows: everything a page needs but the bandits' draws."""
        rng = request_rng(self._seed, context, arm, "draft")
        candidates = self._lists.candidates(context, trace)
        teams: dict[int, str] = {}
        if arm == INTERLEAVED:
            rows, teams = self._interleaved(context, candidates, experiment, rng, trace)
        else:
            rows = self._ranked(context, candidates, arm, rng, trace)
        return Draft(self._with_my_list(rows, context), teams, trace.fallback, dict(trace.timer.last))

    def present(
        self,
        context: Context,
        draft: Draft,
        *,
        arm: str | None,
        experiment: ExperimentSettings,
        trace: Trace,
        started: float | None,
    ) -> list[Row]:
        """The draft's rows ordered for the profile's segment, each item with an artwork variant. A page
        served under an experiment arm is logged with its latency since `started` (None: not logged)."""
        rng = request_rng(self._seed, context, arm, "present")
        with trace.timer.stage("rows"):
            segment = self._segment(context)
            rows = draft.rows
            kinds = list(dict.fromkeys(r.kind for r in rows))
            pinned = [k for k in (*PINNED, MY_LIST) if k in kinds]
            order = self._row_order.order(segment, kinds, rng, pinned=pinned)
            place = {kind: i for i, kind in enumerate(order)}
            rows = [r for _, r in sorted(enumerate(rows), key=lambda ir: (place[ir[1].kind], ir[0]))]
        with trace.timer.stage("artwork"):
            rows = self._with_artwork(rows, segment, rng)
        if arm is not None and started is not None:
            elapsed = (time.perf_counter() - started) * 1000
            self._log.add(
                context=context,
                experiment=experiment.name,
                arm=arm,
                rows=rows,
                latency_ms=elapsed,
                teams=draft.teams,
            )
        return rows

    def _ranked(
        self,
        context: Context,
        candidates: CandidateSet,
        arm: str | None,
        rng: np.random.Generator,
        trace: Trace,
    ) -> list[Row]:
        stage2, builder = self.arms.parts(arm)
        with trace.timer.stage("rank"):
            scored = stage2.score(context=context, candidates=candidates)
        with trace.timer.stage("rows"):
            favourites = self._genres.favourite_genres(context)
            return builder.build(scored=scored, favourite_genres=favourites, rng=rng)

    def _interleaved(
        self,
        context: Context,
        candidates: CandidateSet,
        experiment: ExperimentSettings,
        rng: np.random.Generator,
        trace: Trace,
    ) -> tuple[list[Row], dict[int, str]]:
        """The first arm's page with Top Picks team-drafted from both arms' Top Picks."""
        if experiment.mode != "interleave" or len(experiment.arms) != 2:
            raise ValueError(
                f"{INTERLEAVED!r} needs an interleave experiment of two arms; configured: "
                f"mode {experiment.mode!r}, arms {experiment.arms}"
            )
        first, second = experiment.arms
        rows = self._ranked(context, candidates, first, rng, trace)
        other = self._ranked(context, candidates, second, rng, trace)
        return interleave_top_picks(rows, other, (first, second), rng)

    def _with_my_list(self, rows: list[Row], context: Context) -> list[Row]:
        """The profile's My List as a row of its own (newest first, titles still in the catalog), and its
        titles out of the other rows, so a page shows each title once."""
        mine = my_list_row(self.builder.titles, context)
        if not mine.items:
            return rows
        keep = {i.title_id for i in mine.items}
        others = [replace(r, items=tuple(i for i in r.items if i.title_id not in keep)) for r in rows]
        return [mine, *(r for r in others if r.items)]

    def _with_artwork(self, rows: list[Row], segment: str, rng: np.random.Generator) -> list[Row]:
        """Every item's artwork variant, drawn for the whole page at once."""
        ids = [item.title_id for row in rows for item in row.items]
        chosen = iter(
            self._artwork.choose_many(
                title_ids=ids, variants=[self._variants[t] for t in ids], segment=segment, rng=rng
            )
        )
        return [
            Row(
                row.id,
                row.heading,
                row.kind,
                tuple(
                    RowItem(i.title_id, i.name, i.year, i.explanation, i.reason, i.score, next(chosen))
                    for i in row.items
                ),
            )
            for row in rows
        ]
