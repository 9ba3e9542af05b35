"""Stage-1 candidate sources. Each names itself, queries Qdrant with the request's filter, and
says why it proposed each title."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from catalog import Context, Title
from retrieval.als import ALSModel
from retrieval.candidates import Candidate, Revisit
from retrieval.filters import title_filter
from retrieval.index import CF, CONTENT, Hit, TitleIndex

DAY = 86_400.0


def _listed(hits: list[Hit], source: str, reason: str) -> list[Candidate]:
    return [Candidate(h.id, source, h.score, rank, reason) for rank, h in enumerate(hits)]


@dataclass
class ALSSource:
    """Collaborative filtering: the profile's folded-in ALS vector against item factors (`cf`)."""

    index: TitleIndex
    model: ALSModel
    name: str = "als"

    def candidates(self, *, context: Context, k: int) -> list[Candidate]:
        h = context.history
        vector = self.model.user_vector(h.items, h.weights, h.timestamps, context.now) if len(h) else None
        if vector is None:
            return []
        hits = self.index.search(vector=CF, query=vector, k=k, where=title_filter(context))
        return _listed(hits, self.name, "Viewers with tastes like yours rated it highly")


@dataclass
class ContentSource:
    """Text embeddings: a free-text query or mood, reference titles, or the profile's liked titles."""

    index: TitleIndex
    titles: Mapping[int, Title]
    embed: Callable[[str], np.ndarray] | None = None
    recent: int = 30  # liked titles that make up a taste profile; older taste drifts
    name: str = "content"

    def candidates(self, *, context: Context, k: int) -> list[Candidate]:
        query, reason = self._query(context)
        if query is None:
            return []
        hits = self.index.search(vector=CONTENT, query=query, k=k, where=title_filter(context))
        return _listed(hits, self.name, reason)

    def _query(self, context: Context) -> tuple[np.ndarray | None, str]:
        text = context.query or context.constraints.mood
        refs = context.constraints.reference_titles
        parts: list[np.ndarray] = []
        if text and self.embed is not None:
            parts.append(self.embed(text))
        if refs:
            parts.extend(self.index.vectors(vector=CONTENT, ids=list(refs)).values())
        if parts:
            names = [self.titles[t].name for t in refs if t in self.titles]
            similar = ", ".join(names[:2])
            reason = f"Matches “{text}”" if text else ""
            if similar:
                reason = f"{reason}, similar to {similar}" if reason else f"Similar to {similar}"
            return _unit(np.mean(parts, axis=0)), reason
        taste = self.taste(context)
        return (None, "") if taste is None else (taste, "Shares themes with titles you rated highly")

    def taste(self, context: Context) -> np.ndarray | None:
        """The profile's taste in content space: its liked titles' vectors, unit length; None without."""
        liked = [int(t) for t in context.history.liked()[-self.recent :]]
        vectors = self.index.vectors(vector=CONTENT, ids=liked)
        if not vectors:
            return None
        # Later titles weigh more: taste drifts, and the latest picks say most about tonight.
        ordered = [vectors[t] for t in liked if t in vectors]
        weights = np.linspace(0.5, 1.0, len(ordered))
        return _unit(np.average(np.stack(ordered), axis=0, weights=weights))


@dataclass
class TopBySource:
    """The titles highest on one of the index's counts, within the request's filter."""

    index: TitleIndex
    name: str
    field: str  # the payload count it orders by
    reason: str  # "{where}" becomes " in <region>" when the request has one

    def candidates(self, *, context: Context, k: int) -> list[Candidate]:
        hits = self.index.top_by(field=self.field, k=k, where=title_filter(context))
        where = f" in {context.region}" if context.region else ""
        return _listed(hits, self.name, self.reason.format(where=where))


def popular_source(index: TitleIndex) -> TopBySource:
    """Most watched overall."""
    return TopBySource(index, "popular", "popularity", "Popular on Marquee")


def trending_source(index: TitleIndex) -> TopBySource:
    """Most watched lately: a time-decayed count computed at build time."""
    return TopBySource(index, "trending", "trending", "Trending{where} right now")


@dataclass
class NewSource:
    """Recent releases, most popular first."""

    index: TitleIndex
    latest_year: int
    window_years: int = 2
    name: str = "new"

    def candidates(self, *, context: Context, k: int) -> list[Candidate]:
        base = title_filter(context)
        where = replace(base, year_min=max(self.latest_year - self.window_years, base.year_min or 0))
        hits = self.index.top_by(field="popularity", k=k, where=where)
        return _listed(hits, self.name, "New release")


@dataclass
class GenreSource:
    """Popular titles in the genres the profile watches more than most people do."""

    index: TitleIndex
    titles: Mapping[int, Title]
    genres: int = 3
    name: str = "genre"
    _base_rate: Counter[str] = field(init=False)

    def __post_init__(self) -> None:
        self._base_rate = Counter(g for t in self.titles.values() for g in t.genres)

    def favourite_genres(self, context: Context) -> list[str]:
        liked = Counter(g for t in context.history.liked() for g in self.titles.get(int(t), _NONE).genres)
        # Lift over the catalog's base rate, so Drama does not win just by being everywhere.
        lift = {g: n / np.sqrt(self._base_rate[g]) for g, n in liked.items() if self._base_rate[g]}
        return sorted(lift, key=lambda g: -lift[g])[: self.genres]

    def candidates(self, *, context: Context, k: int) -> list[Candidate]:
        favourites = self.favourite_genres(context)
        wanted = context.constraints.genres
        if wanted:  # a request's genres are a hard limit: a favourite outside them would widen the filter
            favourites = [g for g in favourites if g in wanted]
        lists: list[_Listing] = []
        for genre in favourites:
            where = title_filter(context, extra_genres=(genre,))
            hits = self.index.top_by(field="popularity", k=k // len(favourites), where=where)
            lists.append(_Listing(hits, f"Popular in {genre}, a genre you watch often", genre=genre))
        return _interleaved(lists, self.name)


@dataclass
class SimilarSource:
    """Item to item: titles close to each recent anchor in ALS item space ("because you watched X")."""

    index: TitleIndex
    titles: Mapping[int, Title]
    anchors: int = 3
    name: str = "similar"

    def candidates(self, *, context: Context, k: int) -> list[Candidate]:
        recent = [int(t) for t in context.history.liked()[::-1]]
        anchors = list(dict.fromkeys(recent))[: self.anchors]
        vectors = self.index.vectors(vector=CF, ids=anchors)
        anchors = [a for a in anchors if a in vectors]
        if not anchors:
            return []
        where = title_filter(context)
        lists: list[_Listing] = []
        for anchor in anchors:
            hits = self.index.search(
                vector=CF, query=_unit(vectors[anchor]), k=k // len(anchors), where=where
            )
            name = self.titles[anchor].name if anchor in self.titles else f"title {anchor}"
            lists.append(_Listing(hits, f"Because you watched {name}", anchor=anchor))
        return _interleaved(lists, self.name)


@dataclass
class HistorySource:
    """The profile's own titles: continue watching, and old favourites worth a rewatch."""

    titles: Mapping[int, Title]
    rewatch_after_days: float = 365.0
    name: str = "history"

    def candidates(self, *, context: Context, k: int) -> list[Candidate]:
        h = context.history
        out = [
            Candidate(t, self.name, 1.0, rank, "Continue watching", revisit=Revisit.CONTINUE)
            for rank, t in enumerate(reversed(h.in_progress))
            if t not in h.disliked and t not in context.constraints.exclude_titles
        ]
        loved = (h.weights >= 4.5) & (h.timestamps < context.now - self.rewatch_after_days * DAY)
        for t in h.items[loved][::-1]:
            if int(t) not in h.disliked and int(t) in self.titles:
                reason = "Watch again: you loved it"
                out.append(Candidate(int(t), self.name, 0.5, len(out), reason, revisit=Revisit.REWATCH))
        return out[:k]


_NONE = Title(id=-1, name="", year=None, genres=())


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n else v.astype(np.float32)


class _Listing(NamedTuple):
    """One per-anchor or per-genre hit list, with the reason and the anchor or genre its candidates carry."""

    hits: list[Hit]
    reason: str
    anchor: int | None = None
    genre: str | None = None


def _interleaved(lists: list[_Listing], source: str) -> list[Candidate]:
    """Interleave hit lists by rank (higher score first within a rank, then list order), dropping repeats;
    ranks are renumbered. Works on hits so that each candidate is built once."""
    ordered = sorted(
        (rank, -h.score, i, h) for i, listing in enumerate(lists) for rank, h in enumerate(listing.hits)
    )
    seen: set[int] = set()
    out: list[Candidate] = []
    for _, _, i, h in ordered:
        if h.id not in seen:
            seen.add(h.id)
            found = lists[i]
            out.append(Candidate(h.id, source, h.score, len(out), found.reason, found.anchor, found.genre))
    return out
