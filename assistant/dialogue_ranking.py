"""Rank the catalog for a conversation: what real recommenders suggest after the titles it names.

Each signal scores every catalog title, scaled to [0, 1] within the turn, and a weighted sum ranks them:
- `comention`: ReDial recommenders' next suggestions after the titles named (assistant.comentions);
- `suggested`: how often ReDial recommenders suggest a title at all;
- `popularity`: how often the catalog's viewers watched it (well-known titles for generic requests);
- `neighbours`: the named titles' item-item neighbours (the engine's "more like this");
- `engine`: the engine's own ranked list for the viewer with the named titles as references.
Weights were tuned on a fold of ReDial's train dialogues (`marquee eval-redial --tune`); the
validation dialogues only measure them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import lru_cache

import numpy as np

from assistant.comentions import CoMentions
from assistant.titles import TitleResolver
from engine import Constraints, Context, Engine, Picks, Recommendation

Turn = tuple[str, str]  # (role: "user" or "assistant", text)
NEIGHBOURS = 50  # item-item neighbours read per named title
ENGINE_DEPTH = 100  # how far down the engine's own list counts
NEIGHBOUR_CACHE = 4096
POOL = 20  # ranked titles read per pick asked for, so constraints can still fill the list
SOURCE = "conversation"
# A title the viewer speaks badly of is excluded and lends no evidence.
_DISLIKE = re.compile(
    r"\b(hate[sd]?|dislike[sd]?|didn'?t (like|enjoy|care for)|did not (like|enjoy)|don'?t (like|want)|"
    r"not (a|really a|much of a) fan|wasn'?t (good|great|a fan)|boring|awful|terrible|horrible|overrated|"
    r"can'?t stand|couldn'?t stand|not into|sucked)\b",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[.!?;]|\bbut\b", re.IGNORECASE)


@dataclass(frozen=True)
class BlendWeights:
    """Defaults: `marquee eval-redial --tune` on a fold of ReDial's train dialogues (README, "Real
    dialogues"). The engine's list and catalog popularity came out at 0 for ReDial's seekers, who have
    no history; both stay tunable."""

    comention: float = 1.0
    suggested: float = 0.3
    popularity: float = 0.0
    neighbours: float = 0.1
    engine: float = 0.0
    assistant_named: float = 0.5  # evidence of a title the assistant's side named, relative to the viewer's

    def without(self, component: str) -> BlendWeights:
        return replace(self, **{component: 0.0})


COMPONENTS = tuple(f.name for f in fields(BlendWeights) if f.name != "assistant_named")
DEFAULT_WEIGHTS = BlendWeights()


@dataclass(frozen=True)
class DialogueSignals:
    """One conversation's evidence: the titles named (id -> weight), those to leave out, and each
    component's scores over the catalog (aligned with `DialogueRanker.ids`)."""

    named: dict[int, float]
    excluded: frozenset[int]
    scores: dict[str, np.ndarray]
    degraded: bool = False  # an engine list behind a component came from its fallback (the index away)


class DialogueRanker:
    def __init__(
        self,
        engine: Engine,
        resolver: TitleResolver,
        comentions: CoMentions,
        weights: BlendWeights = DEFAULT_WEIGHTS,
    ) -> None:
        self.engine = engine
        self.resolver = resolver
        self.comentions = comentions
        self.weights = weights
        self.ids = np.array(sorted(engine.titles()), dtype=np.int64)
        self._row = {int(t): i for i, t in enumerate(self.ids)}
        watched = engine.interactions().items
        counts = np.zeros(len(self.ids))
        known, n = np.unique(watched, return_counts=True)
        for title, c in zip(known.tolist(), n.tolist(), strict=True):
            if title in self._row:
                counts[self._row[title]] = c
        self._popularity = _scaled(np.log1p(counts))
        suggested = np.zeros(len(self.ids))
        for title, c in comentions.suggested.items():
            if title in self._row:
                suggested[self._row[title]] = c
        self._suggested = _scaled(np.log1p(suggested))
        self._cached_neighbours = lru_cache(maxsize=NEIGHBOUR_CACHE)(self._neighbours_of)

    def named(self, turns: Sequence[Turn]) -> dict[int, float]:
        """Titles the conversation names, with their evidence weight (0: spoken badly of)."""
        named: dict[int, float] = {}
        for role, text in turns:
            for mention in self.resolver.mentions(text):
                title = mention.title_id
                if title in named:
                    continue
                if role != "user":
                    named[title] = self.weights.assistant_named
                else:
                    named[title] = 0.0 if _disliked(text, mention.start, mention.end) else 1.0
        return named

    def signals(self, turns: Sequence[Turn], context: Context) -> DialogueSignals:
        return self.signals_for(self.named(turns), context)

    def signals_for(
        self, named: Mapping[int, float], context: Context, *, engine: bool = True
    ) -> DialogueSignals:
        """The components for titles already read (id -> evidence weight; 0: named, no evidence).
        Without `engine` the engine's own list is not asked for (it is the slowest component)."""
        evidence = {t: w for t, w in named.items() if w > 0}
        mentioned = frozenset(named)
        neighbours, degraded = self._neighbour_scores(evidence)
        listed, listed_degraded = (
            self._engine_scores(context, evidence, mentioned)
            if engine and self.weights.engine
            else (np.zeros(len(self.ids)), False)
        )
        scores = {
            "comention": self._dense(self.comentions.scores(evidence)),
            "suggested": self._suggested,
            "popularity": self._popularity,
            "neighbours": neighbours,
            "engine": listed,
        }
        excluded = mentioned | context.history.seen() | context.constraints.exclude_titles
        return DialogueSignals(
            named=dict(named), excluded=excluded, scores=scores, degraded=degraded or listed_degraded
        )

    def blend(self, signals: DialogueSignals, weights: BlendWeights | None = None) -> np.ndarray:
        """Each title's blended score; excluded titles get -inf."""
        w = weights or self.weights
        total = sum(getattr(w, name) * signals.scores[name] for name in COMPONENTS)
        total = np.array(total, dtype=np.float64)
        rows = [self._row[t] for t in signals.excluded if t in self._row]
        total[rows] = -np.inf
        return total

    def top(self, scores: np.ndarray, k: int) -> list[int]:
        k = min(k, int(np.isfinite(scores).sum()))
        best = np.argpartition(-scores, k - 1)[:k] if k else np.empty(0, np.int64)
        best = best[np.lexsort((self.ids[best], -scores[best]))]
        return self.ids[best].tolist()

    def rank(self, turns: Sequence[Turn], context: Context, k: int) -> list[int]:
        return self.top(self.blend(self.signals(turns, context)), k)

    def picks(self, liked: Sequence[int], context: Context, k: int) -> Picks:
        """The best k titles for a conversation whose viewer named `liked`, each allowed under the
        context (its genres, era, length, maturity), with a reason that says which signal chose it;
        degraded when an engine list behind them came from the engine's fallback."""
        signals = self.signals_for(dict.fromkeys(liked, 1.0), context)
        scores = self.blend(signals)
        titles = self.engine.titles()
        out = []
        for title in self.top(scores, k * POOL):
            if self.engine.allowed(title, context):
                why = self._reason(title, liked)
                out.append(Recommendation(titles[title], float(scores[self._row[title]]), (SOURCE,), (why,)))
                if len(out) == k:
                    break
        return Picks(out, fallback="the engine's lists came from its fallback" if signals.degraded else None)

    def _reason(self, title: int, liked: Sequence[int]) -> str:
        names = self.engine.titles()
        follows = [(self.comentions.follows.get(x, {}).get(title, 0.0), x) for x in liked]
        p, anchor = max(follows, default=(0.0, 0))
        if p > 0:
            return f"Often suggested to people who like {names[anchor].name}"
        near = [x for x in liked if title in self._neighbours(x)[0]]
        if near:
            return f"More like {names[near[0]].name}"
        return f"Widely watched {'/'.join(names[title].genres[:2]).lower() or 'title'}"

    # -- components ------------------------------------------------------------------------------

    def _dense(self, sparse: Mapping[int, float]) -> np.ndarray:
        out = np.zeros(len(self.ids))
        for title, score in sparse.items():
            row = self._row.get(title)
            if row is not None:
                out[row] = score
        return _scaled(out)

    def _neighbours(self, title: int) -> tuple[tuple[int, ...], bool]:
        """A title's neighbours, and whether they are the engine's fallback (popular titles, index away),
        which is not cached: the real neighbours are asked for again once the index is back."""
        try:
            return self._cached_neighbours(title), False
        except _Fallback as found:
            return found.ids, True

    def _neighbours_of(self, title: int) -> tuple[int, ...]:
        found = self.engine.similar(title, None, k=NEIGHBOURS)
        ids = tuple(r.title.id for r in found)
        if found.fallback is not None:
            raise _Fallback(ids)  # raised, so that lru_cache does not keep it
        return ids

    def _neighbour_scores(self, evidence: Mapping[int, float]) -> tuple[np.ndarray, bool]:
        out: dict[int, float] = {}
        degraded = False
        for title, weight in evidence.items():
            neighbours, fallback = self._neighbours(title)
            degraded = degraded or fallback
            for rank, other in enumerate(neighbours):
                out[other] = out.get(other, 0.0) + weight * (1.0 - rank / NEIGHBOURS)
        return self._dense(out), degraded

    def _engine_scores(
        self, context: Context, evidence: Mapping[int, float], mentioned: frozenset[int]
    ) -> tuple[np.ndarray, bool]:
        constraints = replace(
            context.constraints,
            reference_titles=tuple(context.constraints.reference_titles) + tuple(evidence),
            exclude_titles=context.constraints.exclude_titles | mentioned,
        )
        found = self.engine.recommend(replace(context, constraints=constraints), k=ENGINE_DEPTH)
        return self._dense({r.title.id: 1.0 - i / ENGINE_DEPTH for i, r in enumerate(found)}), found.degraded


class _Fallback(Exception):
    """Neighbours that came from the engine's fallback: raised out of the cached lookup to stay uncached."""

    def __init__(self, ids: tuple[int, ...]) -> None:
        super().__init__("neighbours from the engine's fallback")
        self.ids = ids


def cold_context(profile_id: str) -> Context:
    """A viewer with no history and no constraints: someone the conversation is all we know of."""
    return Context(profile_id=profile_id, constraints=Constraints())


def _disliked(text: str, start: int, end: int) -> bool:
    """Whether the clause around a mention speaks badly of it ("I didn't like X", "X was boring")."""
    before = _CLAUSE_END.split(text[:start])[-1]
    after = _CLAUSE_END.split(text[end:])[0]
    return bool(_DISLIKE.search(before) or _DISLIKE.search(after))


def _scaled(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if len(values) else 0.0
    return values / top if top > 0 else values
