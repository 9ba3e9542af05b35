"""Homepage rows: scored candidates become titled rows, each item explained by the provenance it came with.

An item's explanation always comes from a candidate that really proposed it for that row: a
"Because you watched X" item came from X's item-to-item list, a Trending item from the trending source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from catalog import Title
from ranker.blend import BlendWeights
from ranker.diversify import explore, mmr
from retrieval import NEW_KIND, TRENDING_KIND, Candidate, Revisit

MMR_POOL = 4


class RowKind(StrEnum):
    """What a homepage row is: the row-order bandit learns per kind, and clients style rows by it."""

    CONTINUE_WATCHING = "continue_watching"
    TOP_PICKS = "top_picks"
    MY_LIST = "my_list"  # made by the engine from the profile's saved titles
    BECAUSE_YOU_WATCHED = "because_you_watched"
    TRENDING = "trending"
    GENRE = "genre"
    NEW = "new"
    HIDDEN_GEMS = "hidden_gems"
    WATCH_AGAIN = "watch_again"


# Kept on top in this order: what a viewer was in the middle of, then the best overall picks;
# the row-order bandit arranges the rest.
PINNED = (RowKind.CONTINUE_WATCHING, RowKind.TOP_PICKS)


# An item's explanation: the candidate that proposed it, or a text with its structured reason.
Explained = Candidate | tuple[str, dict[str, Any]]


EXPLORED: Explained = ("Something a little different, to learn what else you like", {"source": "explore"})


@dataclass(frozen=True)
class RowItem:
    title_id: int
    name: str
    year: int | None
    explanation: str
    reason: Mapping[str, Any]  # structured: source, rank, anchor (title id) where there is one
    score: float
    artwork: str = "title_card"


@dataclass(frozen=True)
class Row:
    id: str
    heading: str
    kind: RowKind
    items: tuple[RowItem, ...]


@dataclass(frozen=True, eq=False)
class Scored:
    """Stage-2 output for one request: candidates with their final scores, best first."""

    ids: np.ndarray
    scores: np.ndarray
    provenance: tuple[tuple[Candidate, ...], ...]
    vectors: np.ndarray  # unit content vectors aligned with ids, for MMR
    popularity: np.ndarray  # training interactions per candidate, for the long tail


class RowsConfig(BaseModel):
    """The homepage's rows (MARQUEE_ROWS__*); how diverse a row is comes from the blend's weights."""

    model_config = ConfigDict(frozen=True)

    row_length: int = 20
    genre_cap: int = 6
    anchors: int = 3  # Because You Watched rows
    genre_rows: int = 2
    min_items: int = 4  # a thinner row is dropped
    long_tail_quantile: float = 0.8  # Hidden Gems: outside the most popular 20% of titles
    explore_epsilon: float = 0.1  # chance that Top Picks tries one title the model knows little about
    explore_slot: int = 4


@dataclass
class RowBuilder:
    titles: Mapping[int, Title]
    config: RowsConfig = field(default_factory=RowsConfig)
    weights: BlendWeights = field(default_factory=BlendWeights)  # its diversity sets MMR's λ in a row
    # Interactions a title needs to be in the catalog's popular head; None: judge among the candidates.
    head_popularity: float | None = None

    def build(
        self, *, scored: Scored, favourite_genres: list[str], rng: np.random.Generator | None = None
    ) -> list[Row]:
        """Rows in a default order (the caller's row-order policy may reorder them). With `rng`, Top Picks
        may explore: one slot goes to the least-known candidate, explained as such."""
        rows: list[Row] = []
        used: set[int] = set()
        index = _index(scored)
        by_source, unseen = index.by_source, index.unseen
        rows += self._row(
            scored,
            RowKind.CONTINUE_WATCHING,
            RowKind.CONTINUE_WATCHING,
            "Continue Watching",
            picks=index.revisits[Revisit.CONTINUE],
            used=used,
            mmr_on=False,
        )
        rows += self._row(
            scored,
            RowKind.TOP_PICKS,
            RowKind.TOP_PICKS,
            "Top Picks for You",
            picks=unseen,
            used=used,
            explore=rng,
        )
        first_rank = index.first_rank
        # Distinct anchors, most recent first (the similar source ranks them that way).
        for anchor in sorted(set(first_rank), key=first_rank.__getitem__)[: self.config.anchors]:
            from_anchor = index.by_anchor[anchor]
            name = self.titles[anchor].name if anchor in self.titles else str(anchor)
            rows += self._row(
                scored,
                f"{RowKind.BECAUSE_YOU_WATCHED}:{anchor}",
                RowKind.BECAUSE_YOU_WATCHED,
                f"Because You Watched {name}",
                picks=list(from_anchor),
                used=used,
                explain=from_anchor,
            )
        rows += self._source_row(
            scored, by_source, TRENDING_KIND.name, RowKind.TRENDING, "Trending Now", used
        )
        ids = scored.ids.tolist()
        for genre in favourite_genres[: self.config.genre_rows]:
            in_genre = [i for i in unseen if genre in self.titles[ids[i]].genres]
            explain = {i: _genre_reason(scored.provenance[i], genre) for i in in_genre}
            rows += self._row(
                scored,
                f"{RowKind.GENRE}:{genre}",
                RowKind.GENRE,
                f"{genre} Picks for You",
                picks=in_genre,
                used=used,
                explain=explain,
            )
        rows += self._source_row(scored, by_source, NEW_KIND.name, RowKind.NEW, "New Releases", used)
        rows += self._hidden_gems(scored, unseen, used)
        rows += self._row(
            scored,
            RowKind.WATCH_AGAIN,
            RowKind.WATCH_AGAIN,
            "Watch It Again",
            picks=index.revisits[Revisit.REWATCH],
            used=used,
            mmr_on=False,
        )
        return rows

    def _source_row(
        self,
        scored: Scored,
        by_source: dict[str, dict[int, Candidate]],
        source: str,
        kind: RowKind,
        heading: str,
        used: set[int],
    ) -> list[Row]:
        found = by_source.get(source, {})
        return self._row(scored, kind, kind, heading, picks=list(found), used=used, explain=found)

    def _explore(
        self, scored: Scored, head: np.ndarray, pool: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Epsilon-exploration: the least popular candidate of the pool is the one we know least about."""
        uncertainty = -np.log1p(scored.popularity[pool])
        return explore(
            picked=head,
            pool=pool,
            uncertainty=uncertainty,
            epsilon=self.config.explore_epsilon,
            rng=rng,
            slot=self.config.explore_slot,
        )

    def _hidden_gems(self, scored: Scored, unseen: list[int], used: set[int]) -> list[Row]:
        if not unseen:
            return []
        cutoff = self.head_popularity
        if cutoff is None:
            cutoff = float(np.quantile(scored.popularity[unseen], self.config.long_tail_quantile))
        tail = [i for i in unseen if scored.popularity[i] < cutoff]
        gem = ("A hidden gem: fewer people have found it, and it fits your taste", {"source": "long_tail"})
        explain = dict.fromkeys(tail, gem)
        return self._row(
            scored,
            RowKind.HIDDEN_GEMS,
            RowKind.HIDDEN_GEMS,
            "Hidden Gems",
            picks=tail,
            used=used,
            explain=explain,
        )

    def _row(
        self,
        scored: Scored,
        row_id: str,
        kind: RowKind,
        heading: str,
        *,
        picks: list[int],
        used: set[int],
        explain: Mapping[int, Explained] | None = None,
        mmr_on: bool = True,
        explore: np.random.Generator | None = None,
    ) -> list[Row]:
        """One row from candidate positions `picks`: drop titles an earlier row showed, diversify, explain."""
        ids = scored.ids.tolist()  # Python ints: far cheaper to look up one by one than numpy scalars
        pool = np.array([i for i in picks if ids[i] not in used], dtype=np.int64)
        if len(pool) < self.config.min_items and kind not in PINNED:
            return []
        if not len(pool):
            return []
        # MMR only reorders the head: a row never reaches past its best few multiples of its length.
        pool = pool[np.argsort(-scored.scores[pool], kind="stable")][: self.config.row_length * MMR_POOL]
        if mmr_on:
            genres = [self.titles[ids[i]].genres for i in pool.tolist()]
            order = mmr(
                ids=scored.ids[pool],
                relevance=scored.scores[pool],
                vectors=scored.vectors[pool],
                k=self.config.row_length,
                trade_off=self.weights.trade_off,
                genres=genres,
                genre_cap=self.config.genre_cap,
            )
            head = pool[order]
            if explore is not None:
                head = self._explore(scored, head, pool, explore)
                explain = {**(explain or {}), **{int(i): EXPLORED for i in head if i not in pool[order]}}
            pool = head
        items = []
        explain = explain or {}
        shown = pool[: self.config.row_length]
        for i, score in zip(shown.tolist(), scored.scores[shown].tolist(), strict=True):
            title = self.titles[ids[i]]
            given = explain.get(i) or _strongest(scored.provenance[i])
            text, reason = given if isinstance(given, tuple) else _from_candidate(given)
            items.append(RowItem(title.id, title.name, title.year, text, reason, score))
            used.add(title.id)
        return [Row(row_id, heading, kind, tuple(items))]


@dataclass(frozen=True)
class _Index:
    """Candidate positions by what proposed them, gathered in one pass over the provenance."""

    by_source: dict[str, dict[int, Candidate]]  # source -> position -> its first candidate there
    unseen: list[int]  # positions some candidate proposed as new to the profile (not a revisit)
    revisits: dict[Revisit, list[int]]  # positions proposed again, by why: continue or rewatch
    by_anchor: dict[int, dict[int, Candidate]]  # "because you watched" candidates per anchor
    first_rank: dict[int, int]  # each anchor's best rank in its source


def _index(scored: Scored) -> _Index:
    by_source: dict[str, dict[int, Candidate]] = {}
    unseen: list[int] = []
    revisits: dict[Revisit, list[int]] = {r: [] for r in Revisit}
    by_anchor: dict[int, dict[int, Candidate]] = {}
    first_rank: dict[int, int] = {}
    for i, provenance in enumerate(scored.provenance):
        revisit: Revisit | None = None  # the first revisit candidate's: a title is in one revisit row
        new = False
        for c in provenance:
            by_source.setdefault(c.source, {}).setdefault(i, c)
            if c.revisit is not None:
                revisit = revisit or c.revisit
                continue
            new = True
            if c.anchor is not None:
                by_anchor.setdefault(c.anchor, {})[i] = c
                first_rank[c.anchor] = min(first_rank.get(c.anchor, c.rank), c.rank)
        if revisit is not None:
            revisits[revisit].append(i)
        if new:
            unseen.append(i)
    return _Index(by_source, unseen, revisits, by_anchor, first_rank)


def _strongest(provenance: tuple[Candidate, ...]) -> Candidate:
    return min(provenance, key=lambda c: (c.rank, c.source))


def _from_candidate(c: Candidate) -> tuple[str, dict[str, Any]]:
    reason: dict[str, Any] = {"source": c.source, "rank": c.rank}
    if c.anchor is not None:
        reason["anchor"] = c.anchor
    return c.reason, reason


def _genre_reason(provenance: tuple[Candidate, ...], genre: str) -> Explained:
    for c in provenance:
        if c.genre == genre:
            return c
    return f"{genre}, a genre you watch often", {"source": "genre_match", "genre": genre}
