"""Search: a typed query, once read, becomes filters, people and text, ranked for the profile.

The engine does not read language: the layer above reads a query the way it reads a chat message and
hands over a `SearchIntent` (genres, people, era, the words left to match as text, titles it named).
Here that intent picks the candidates and how they are ordered:
- a title typed in full comes first;
- a genre, person or era with nothing else (browse) is a filter, ordered by the profile's taste (its
  ranker, and closeness to its liked titles) with a popularity prior, so two viewers typing "comedy"
  get comedies that fit each of them;
- a mood or a description is matched against the catalog's text (embedder plus TF-IDF), a description
  of a few words leaning on well-known titles, since that is what people describe from memory.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from catalog import Constraints, Context, Dataset, History, allowed_maturity
from engine.lists import Lists, index_or_none, unit_range
from engine.results import Recommendation
from engine.titlenames import TitleNames
from engine.trace import Trace
from ranker.pipeline import Stage2
from retrieval import (
    CONTENT,
    SOURCES,
    Candidate,
    CandidateSet,
    LexicalIndex,
    TitleFilter,
    merge,
    title_filter,
    words,
)

TEXT_POOL = 60  # candidates per text matcher (embedder, TF-IDF)
MIN_STEM = 4  # letters a word needs before a name sharing its stem is suspected
MOOD_POOL = 120  # a mood fits many titles: room for the profile's taste to choose among them
# A mood said of fewer titles than three top-8 lists ("heartwarming" tags nine here) leaves taste nothing
# to choose from: the pool grows with the titles whose text is closest to those matches as a whole.
MOOD_FEW = 24
MOOD_PROTOTYPE = 3  # matches needed before they stand for the mood; fewer are anecdotes
BROWSE_POPULAR = 200  # the most watched titles under a browse filter, beside the profile's own candidates
DESCRIPTION_WORDS = 3  # this many words describe a film; fewer name a mood or a theme
SHORT_DESCRIPTION = 6  # up to this many words a description is vague: well-known titles are preferred
WELL_KNOWN = 0.9  # popularity quantile above which a title named like a genre word is meant as a title
CONTENT_TASTE = 0.6  # share of taste from content closeness to the profile's likes; the rest: the ranker
SEEN_PENALTY = 0.5  # browsing by genre or mood is for something to watch: seen titles step back


@dataclass(frozen=True)
class Weights:
    """How much the query's text, the profile's ranker and popularity each count in the order."""

    text: float
    taste: float
    popularity: float


UNREAD = Weights(text=0.7, taste=0.2, popularity=0.1)  # nothing understood: a name or words to match
BROWSE = Weights(text=0.0, taste=0.8, popularity=0.2)
MOOD = Weights(text=0.2, taste=0.65, popularity=0.15)
DESCRIPTION = Weights(text=0.65, taste=0.15, popularity=0.2)
SHORT_DESCRIPTION_WEIGHTS = Weights(text=0.55, taste=0.1, popularity=0.35)


@dataclass(frozen=True)
class SearchIntent:
    """What a search query asks for once read. Empty means nothing was understood: the raw query is
    then matched as a name and as text."""

    genres: tuple[str, ...] = ()
    exclude_genres: tuple[str, ...] = ()
    people: tuple[str, ...] = ()  # as the catalog credits them
    year_min: int | None = None
    year_max: int | None = None
    max_runtime: int | None = None
    maturity_limit: str | None = None
    titles: tuple[int, ...] = ()  # titles the query named
    text: str = ""  # a mood or a description, to match against the catalog's text

    @property
    def structured(self) -> bool:
        """Whether the query names filters: a genre, a person, an era, a length, an audience."""
        return bool(
            self.genres
            or self.exclude_genres
            or self.people
            or self.year_min is not None
            or self.year_max is not None
            or self.max_runtime is not None
            or self.maturity_limit is not None
        )

    @property
    def empty(self) -> bool:
        return not (self.structured or self.titles or self.text.strip())

    def constraints(self, base: Constraints) -> Constraints:
        """The profile's constraints narrowed by the query's filters."""
        maturity = base.maturity
        if self.maturity_limit is not None:
            allowed = set(allowed_maturity(self.maturity_limit))
            maturity = tuple(m for m in (maturity or allowed_maturity(None)) if m in allowed)
        return replace(
            base,
            genres=tuple(dict.fromkeys(base.genres + self.genres)),
            exclude_genres=tuple(dict.fromkeys(base.exclude_genres + self.exclude_genres)),
            year_min=self.year_min if self.year_min is not None else base.year_min,
            year_max=self.year_max if self.year_max is not None else base.year_max,
            max_runtime=self.max_runtime if self.max_runtime is not None else base.max_runtime,
            maturity=maturity,
        )


class Search:
    def __init__(
        self,
        *,
        dataset: Dataset,
        lists: Lists,
        stage2: Stage2,
    ) -> None:
        self._dataset = dataset
        self._lists = lists
        self._content = lists.content
        self._index = lists.index
        self._stage2 = stage2
        self._popular = lists.popular
        self._names = TitleNames(dataset.titles)
        self._lexical: LexicalIndex | None = None  # built on the first text query
        self._lexical_lock = threading.Lock()
        values = np.array(list(self._popular.popularity.values()), np.float64)
        self._well_known = float(np.quantile(values, WELL_KNOWN)) if len(values) else 0.0
        credits: dict[str, set[int]] = {}
        for title in dataset.titles.values():
            for person in (*title.directors, *title.cast):
                credits.setdefault(person.lower(), set()).add(title.id)
        self._credits = credits

    def search(
        self, query: str, context: Context, k: int, intent: SearchIntent | None, trace: Trace
    ) -> list[Recommendation]:
        query = query.strip()
        if not query:
            return []
        read = intent is not None and not intent.empty
        if intent is None or intent.empty:
            intent = SearchIntent(text=query)
        asked = replace(context, constraints=intent.constraints(context.constraints))
        # Seen titles stay findable: the filters hold the profile's limits and the query's, not its history.
        base = title_filter(replace(context, history=History()))
        where = title_filter(replace(asked, history=History()))
        browse = intent.structured and not intent.text.strip()
        with trace.timer.stage("candidates"):
            # A query read as filters or as a mood is not a name: only a name typed in full counts then.
            whole_names = browse or (read and not intent.titles and _is_mood(intent.text))
            named = self._named(query, intent, base, whole_names=whole_names, browse=browse)
            lists: list[list[Candidate]] = [named]
            if intent.text.strip():
                lists += self._text(intent.text, asked, where, trace)
            if intent.people:
                lists.append(self._credited(intent.people, where))
            elif browse:
                lists.append(
                    self._popular.candidates(context=replace(asked, history=History()), k=BROWSE_POPULAR)
                )
                lists.append(self._personal(asked, trace))
            candidates = merge(lists, weights={"title_match": 2.0})
        if not len(candidates):
            return []
        exact = [c.title_id for c in named if c.score >= 1.0]
        people = self._people(intent.people)
        with trace.timer.stage("rank"):
            score = self._scores(asked, candidates, intent, browse=browse, read=read, trace=trace)
        keep = [
            i for i, t in enumerate(candidates.ids.tolist()) if t in exact or people is None or t in people
        ]
        wanted = set(intent.genres)
        # Genres asked together mean titles with all of them first; a name typed in full before all.
        keep.sort(
            key=lambda i: (
                int(candidates.ids[i]) not in exact,
                -len(wanted.intersection(self._dataset.titles[int(candidates.ids[i])].genres)),
                -score[i],
            )
        )
        return self._lists.as_recommendations(candidates, candidates.ids[keep[:k]])

    # -- candidates -----------------------------------------------------------------------------

    def _named(
        self, query: str, intent: SearchIntent, base: TitleFilter, *, whole_names: bool, browse: bool
    ) -> list[Candidate]:
        """Titles the query names; with `whole_names`, only names typed in full ("dark" is not a typo of
        "Darkman"), and when the whole query reads as filters only well-known ones ("war" names a
        genre before it names an obscure film called "War")."""
        found = [c for c in self._names.matches(query, TEXT_POOL) if self._popular.passes(c.title_id, base)]
        if whole_names:
            found = [c for c in found if c.score >= 1.0]
        if browse:
            found = [c for c in found if self._popularity(c.title_id) >= self._well_known]
        known = {c.title_id for c in found}
        found += [
            Candidate(t, "title_match", 0.99, len(found) + i, f"Title matches “{query}”")
            for i, t in enumerate(intent.titles)
            if t not in known and t in self._dataset.titles and self._popular.passes(t, base)
        ]
        return found

    def _text(self, text: str, asked: Context, where: TitleFilter, trace: Trace) -> list[list[Candidate]]:
        """Titles whose text means (embedder) or says (TF-IDF) what the query describes; with the index
        away, only what it says."""
        themed = replace(asked, history=History(), query=text)
        mood = _is_mood(text)
        pool = MOOD_POOL if mood else TEXT_POOL
        by_meaning = (
            index_or_none(self._index, lambda: self._content.candidates(context=themed, k=pool), trace) or []
        )
        if mood:
            # Title documents open with the name, so "dark" or "mind-bending" lands near "Darkman" and "A
            # Beautiful Mind": a mood is about the story, and a name's words are no evidence of it.
            said = words(text)
            names = self._dataset.titles
            by_meaning = [c for c in by_meaning if not _shares_stem(said, words(names[c.title_id].name))]
        by_words = self.lexical().matches(text, pool, allowed=lambda t: self._popular.passes(t, where))
        if not mood or not MOOD_PROTOTYPE <= len(by_words) < MOOD_FEW:
            return [by_meaning, by_words]
        alike = index_or_none(self._index, lambda: self._like_matches(text, by_words, where), trace)
        return [by_meaning, by_words, alike or []]

    def _like_matches(self, text: str, matches: list[Candidate], where: TitleFilter) -> list[Candidate]:
        """Titles near the mood's matches taken together (their content vectors' mean, weighted by how
        strongly each says the mood): one title's topic ("the ocean") averages out, the shared feel stays."""
        vectors = self._index.vectors(vector=CONTENT, ids=[c.title_id for c in matches])
        held = [c for c in matches if c.title_id in vectors]
        if len(held) < MOOD_PROTOTYPE:
            return []
        mean = np.average(
            np.stack([vectors[c.title_id] for c in held]), axis=0, weights=[c.score for c in held]
        )
        hits = self._index.search(vector=CONTENT, query=mean / np.linalg.norm(mean), k=MOOD_POOL, where=where)
        known = {c.title_id for c in matches}
        reason = f"Close to titles matching “{text}”"
        alike = [h for h in hits if h.id not in known]
        return [Candidate(h.id, CONTENT, h.score, rank, reason) for rank, h in enumerate(alike)]

    def lexical(self) -> LexicalIndex:
        """The catalog's word index, built on first use (a server builds it while loading)."""
        with self._lexical_lock:  # one build, however many first queries arrive at once
            if self._lexical is None:
                self._lexical = LexicalIndex(self._dataset.titles)
            return self._lexical

    def _credited(self, people: Sequence[str], where: TitleFilter) -> list[Candidate]:
        """Every title crediting one of the people, most watched first."""
        ids = sorted(self._people(people) or (), key=lambda t: (-self._popularity(t), t))
        names = " and ".join(people)
        return [
            Candidate(t, "people", self._popularity(t), rank, f"With {names}")
            for rank, t in enumerate(t for t in ids if self._popular.passes(t, where))
        ]

    def _personal(self, asked: Context, trace: Trace) -> list[Candidate]:
        """The profile's own candidates under the query's filters (its unseen titles)."""
        found = self._lists.candidates(asked, trace).without_only(SOURCES.proposing_seen)
        return [min(p, key=lambda c: c.rank) for _, _, p in found]

    # -- order ----------------------------------------------------------------------------------

    def _scores(
        self,
        asked: Context,
        candidates: CandidateSet,
        intent: SearchIntent,
        *,
        browse: bool,
        read: bool,
        trace: Trace,
    ) -> np.ndarray:
        ids = candidates.ids
        length = len(intent.text.split())
        if not read:
            weights = UNREAD
        elif browse:
            weights = BROWSE
        elif _is_mood(intent.text):
            weights = MOOD
        else:
            weights = SHORT_DESCRIPTION_WEIGHTS if length <= SHORT_DESCRIPTION else DESCRIPTION
        taste = unit_range(self._stage2.relevance(context=asked, candidates=candidates))
        affinity = index_or_none(self._index, lambda: self._affinity(asked, ids), trace)
        if affinity is not None:
            taste = (1 - CONTENT_TASTE) * taste + CONTENT_TASTE * unit_range(affinity)
        popularity = unit_range(np.log1p([self._popularity(int(t)) for t in ids]))
        score = weights.taste * taste + weights.popularity * popularity
        if weights.text:
            score += weights.text * unit_range(candidates.scores)
        if weights is BROWSE or weights is MOOD:
            seen = asked.history.seen()
            score -= SEEN_PENALTY * np.array([int(t) in seen for t in ids], np.float64)
        return score

    def _affinity(self, context: Context, ids: np.ndarray) -> np.ndarray | None:
        """Each candidate's closeness to the profile's liked titles in content space; None without likes.
        The ranker's relevance leans on what everyone watches; this says what this profile is like."""
        taste = self._content.taste(context)
        if taste is None:
            return None
        vectors = self._index.vectors(vector=CONTENT, ids=[int(t) for t in ids])
        return np.array([float(vectors[int(t)] @ taste) if int(t) in vectors else 0.0 for t in ids])

    def _people(self, people: Sequence[str]) -> set[int] | None:
        """Titles crediting any of the people; None when the query names nobody."""
        if not people:
            return None
        return set().union(*(self._credits.get(p.lower(), set()) for p in people))

    def _popularity(self, title_id: int) -> float:
        return float(self._popular.popularity.get(title_id, 0.0))


def _is_mood(text: str) -> bool:
    """A word or two says how a film should feel; more describe one."""
    return 0 < len(text.split()) < DESCRIPTION_WORDS


def _shares_stem(said: list[str], name: list[str]) -> bool:
    """Whether a name has a word of the query, or one of its stems ("dark" and "Darkness", "heartwarming"
    and "Heart"); shorter words are too common to tell."""
    return any(
        a.startswith(b) or b.startswith(a) for a in said for b in name if min(len(a), len(b)) >= MIN_STEM
    )
