"""The assistant's tools: an allow-list of typed calls over the engine facade.

Both dialogue drivers (the LLM agent and the offline policy) act only through `Toolbox.call`. Arguments are
validated against a pydantic model (`extra="forbid"`, bounded sizes) before anything runs; an unknown tool
or a bad argument comes back as a tool error for the model to read, never as an exception or an action.
The profile is bound when the toolbox is made: no tool takes a profile id, so no prompt can reach another
profile's history.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.dialogue_ranking import DialogueRanker
from assistant.lexicon import Lexicon
from assistant.preferences import PreferenceUpdate
from assistant.state import DialogueState
from engine import (
    Context,
    Engine,
    EngineError,
    Event,
    EventKind,
    Page,
    Picks,
    Recommendation,
    SearchIntent,
    Title,
    allowed_maturity,
    normalize_maturity,
)

MAX_PICKS = 10
KIDS_AUDIENCES = ("kids", "children", "family")
WIDEN = 10  # picks drawn per pick shown when a soft preference (all genres, people) reorders them
_Answer = TypeVar("_Answer", Picks, Page)
TitleRef = Annotated[int | str, Field(description="a catalog title id, or a title's name and year")]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Names = Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=10)]
Refs = Annotated[list[TitleRef], Field(max_length=10)]


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchArgs(Args):
    """Find catalog titles by name or theme ("heist", "the matrix"); seen titles are included."""

    query: ShortText
    k: int = Field(5, ge=1, le=MAX_PICKS)


class RecommendArgs(Args):
    """Recommend unseen titles for this viewer under the conversation's preferences plus these ones."""

    genres: Names = Field(default_factory=list, description="genres wanted, e.g. Comedy, Sci-Fi")
    exclude_genres: Names = Field(default_factory=list)
    mood: str | None = Field(None, max_length=200, description='free text: "dark and funny", "heist"')
    like_titles: Refs = Field(default_factory=list, description="titles the picks should resemble")
    year_min: int | None = Field(None, ge=1870, le=2100)
    year_max: int | None = Field(None, ge=1870, le=2100)
    max_runtime: int | None = Field(None, ge=30, le=600, description="minutes")
    popular_first: bool = Field(False, description="well-known titles first: trending or generic requests")
    k: int = Field(5, ge=1, le=MAX_PICKS)


class SimilarArgs(Args):
    """Titles like one title, that this viewer has not seen."""

    title: TitleRef
    k: int = Field(5, ge=1, le=MAX_PICKS)


class ExplainArgs(Args):
    """Why a title would (or would not) suit this viewer."""

    title: TitleRef


class RowsArgs(Args):
    """This viewer's personalized homepage rows."""

    max_rows: int = Field(4, ge=1, le=10)
    per_row: int = Field(5, ge=1, le=MAX_PICKS)


class PreferencesArgs(Args):
    """Remember what the viewer said they want or not; titles are names or ids."""

    genres: Names = Field(default_factory=list)
    exclude_genres: Names = Field(default_factory=list)
    moods: Names = Field(default_factory=list)
    liked_titles: Refs = Field(default_factory=list)
    disliked_titles: Refs = Field(default_factory=list)
    seen_titles: Refs = Field(default_factory=list)
    people: Names = Field(default_factory=list, description="actors or directors wanted")
    exclude_people: Names = Field(default_factory=list, description="actors or directors to leave out")
    year_min: int | None = Field(None, ge=1870, le=2100)
    year_max: int | None = Field(None, ge=1870, le=2100)
    max_runtime: int | None = Field(None, ge=30, le=600)
    audience: str | None = Field(None, max_length=40, description='who is watching: "kids", "family", ...')


class FeedbackArgs(Args):
    """Record what the viewer said about a title: seen it, liked it, disliked it, or not interested."""

    title: TitleRef
    feedback: Literal["seen", "liked", "disliked", "not_interested"]


class MyListArgs(Args):
    """The viewer's My List: "add" a title to watch later, "remove" one, or "show" what is saved."""

    action: Literal["add", "remove", "show"]
    title: TitleRef | None = Field(None, description="the title to add or remove")


class TitleCard(BaseModel):
    """A title as the assistant shows it: grounded in the catalog, with the reason it was picked."""

    title_id: int
    name: str
    year: int | None
    genres: list[str]
    runtime: int | None
    explanation: str

    @classmethod
    def of(cls, title: Title, why: str) -> TitleCard:
        return cls(
            title_id=title.id,
            name=title.name,
            year=title.year,
            genres=list(title.genres),
            runtime=title.runtime,
            explanation=why,
        )


class ToolResult(BaseModel):
    ok: bool
    content: dict[str, Any]  # what the model reads back
    titles: list[TitleCard] = Field(default_factory=list)  # picks this call offered the viewer

    def for_model(self) -> str:
        return json.dumps(self.content, ensure_ascii=False)


@dataclass(frozen=True)
class Viewer:
    """Who a conversation is for. The server binds it; models and users never choose it."""

    profile_id: str
    context: Callable[[], Context]  # the profile as of now: history, maturity, region
    record: Callable[[Sequence[Event]], object] | None = None  # None: feedback stays in the conversation

    @classmethod
    def stored(cls, engine: Engine, profile_id: str) -> Viewer:
        return cls(profile_id, lambda: engine.profile_context(profile_id), engine.record)


class ToolError(ValueError):
    """A call the model made wrongly: the message goes back to it."""


class Toolbox:
    """The tools of one conversation turn, bound to its viewer and dialogue state."""

    def __init__(
        self,
        engine: Engine,
        viewer: Viewer,
        state: DialogueState,
        lexicon: Lexicon,
        ranking: DialogueRanker | None = None,
        read_query: Callable[[str], SearchIntent] | None = None,
    ) -> None:
        self.engine = engine
        self.ranking = ranking  # with ReDial co-mentions: picks for titles the conversation named
        self.read_query = read_query  # a search query read as the search box reads it; None: matched unread
        self.viewer = viewer
        self.state = state
        self.lexicon = lexicon
        self.calls = 0
        self.degraded = False  # an engine answer this turn came from a fallback (the index away, no ranker)
        self.offered: dict[int, TitleCard] = {}  # every title a tool offered during this turn

    @staticmethod
    def specs() -> list[dict[str, Any]]:
        """The tools in OpenAI's function-calling format."""
        return [
            {
                "type": "function",
                "function": {
                    "name": name,
                    "description": (tool.args.__doc__ or "").strip(),
                    "parameters": tool.args.model_json_schema(),
                },
            }
            for name, tool in TOOLS.items()
        ]

    def call(self, name: str, arguments: str | dict[str, Any] | None) -> ToolResult:
        """Run one tool call; anything wrong with the call is answered as an error, not raised."""
        self.calls += 1
        tool = TOOLS.get(name)
        if tool is None:
            return _error(f"unknown tool {name!r}; available: {', '.join(TOOLS)}")
        try:
            raw = json.loads(arguments) if isinstance(arguments, str) else (arguments or {})
            args = tool.args.model_validate(raw)
        except (json.JSONDecodeError, ValidationError) as exc:
            return _error(f"invalid arguments for {name}: {_brief(exc)}")
        try:
            result = tool.run(self, args)
        except (ToolError, EngineError, LookupError) as exc:
            return _error(str(exc))
        for card in result.titles:
            self.offered[card.title_id] = card
        return result

    # -- the tools ---------------------------------------------------------------------------

    def _search(self, args: SearchArgs) -> ToolResult:
        intent = self.read_query(args.query) if self.read_query is not None else None
        found = self._noted(self.engine.search(args.query, self.viewer.context(), k=args.k, intent=intent))
        return self._listing(found, offer=False)

    def _recommend(self, args: RecommendArgs) -> ToolResult:
        update = PreferenceUpdate(
            genres=self._genres(args.genres),
            exclude_genres=self._genres(args.exclude_genres),
            moods=[args.mood] if args.mood else [],
            liked_titles=[self.title(t).id for t in args.like_titles],
            year_min=args.year_min,
            year_max=args.year_max,
            max_runtime=args.max_runtime,
        )
        self.state.preferences = self.state.preferences.merged(update)
        return self.recommendations(args.k, popular_first=args.popular_first)

    def recommendations(self, k: int, *, popular_first: bool = False) -> ToolResult:
        """Picks under everything the conversation knows; never a title seen, rejected or shown before.

        People ruled out, moods complained about and a kids' rating limit filter the engine's list (a
        kids' pick needs a known rating within the limit: a guess from its genres is not enough).
        `popular_first` (and any kids' or family request) puts well-known titles ahead: the popularity
        prior for requests that say little about taste."""
        context = self.context()
        prefs = self.state.preferences
        people = [p.lower() for p in prefs.people]
        genres = set(prefs.genres)
        kids = prefs.audience in KIDS_AUDIENCES
        popular_first = popular_first or kids
        filtered = bool(prefs.exclude_people or prefs.avoid_moods or kids)
        widen = bool(people) or len(genres) > 1 or filtered or popular_first
        if self.ranking is not None and self.ranking.comentions and prefs.liked_titles and not widen:
            # What real recommenders suggest after these titles beats the engine's ratings neighbours
            # (README, "Real dialogues"); the context's constraints still filter every pick.
            return self._listing(self._noted(self.ranking.picks(prefs.liked_titles, context, k)), offer=True)
        found = self._noted(self.engine.recommend(context, k=k * WIDEN if widen else k))
        if len(genres) > 1:  # also ask within the rarest genre, where titles with all of them gather
            rarest = min(genres, key=lambda g: self.lexicon.genre_sizes.get(g, 0))
            narrow = replace(context, constraints=replace(context.constraints, genres=(rarest,)))
            known = {r.title.id for r in found}
            more = self._noted(self.engine.recommend(narrow, k=k * WIDEN))
            found += [r for r in more if r.title.id not in known]
        if filtered:
            rated = set(allowed_maturity(prefs.maturity_limit)) if kids else set()
            excluded = [p.lower() for p in prefs.exclude_people]
            found = [
                r
                for r in found
                if not _features(r.title, excluded)
                and not _about(r.title, prefs.avoid_moods)
                and (not kids or normalize_maturity(r.title.maturity) in rated)
            ]
        if widen:
            # The index filter keeps any wanted genre; "a funny animated film" means both, so titles with
            # more of the wanted genres, and with the people named, go first (in the engine's order).
            def fit(r: Recommendation) -> tuple[int, bool, bool]:
                obscure = (
                    popular_first and self.lexicon.popularity.get(r.title.id, 0.0) < self.lexicon.well_known
                )
                return -len(genres.intersection(r.title.genres)), not _features(r.title, people), obscure

            found = sorted(found, key=fit)[:k]
        return self._listing(found, offer=True)

    def _similar(self, args: SimilarArgs) -> ToolResult:
        anchor = self.title(args.title)
        if self.ranking is not None and anchor.id in self.ranking.comentions.follows:
            # "Like X": what recommenders suggest to people who like X, X's neighbours among them.
            found = self._noted(self.ranking.picks([anchor.id], self.context(), args.k))
            return self._listing(found, offer=True)
        found = self._noted(self.engine.similar(anchor.id, self.context(), k=args.k))
        return self._listing(found, offer=True)

    def _explain(self, args: ExplainArgs) -> ToolResult:
        title = self.title(args.title)
        card = TitleCard.of(title, self.explanation(title))
        return ToolResult(ok=True, content={"title": card.model_dump()}, titles=[])

    def _rows(self, args: RowsArgs) -> ToolResult:
        rows = self._noted(self.engine.rows(self.viewer.context()))[: args.max_rows]
        content = {
            "rows": [
                {
                    "heading": r.heading,
                    "titles": [{"title_id": i.title_id, "name": i.name, "year": i.year} for i in r.items][
                        : args.per_row
                    ],
                }
                for r in rows
            ]
        }
        return ToolResult(ok=True, content=content)

    def _update(self, args: PreferencesArgs) -> ToolResult:
        update = PreferenceUpdate(
            genres=self._genres(args.genres),
            exclude_genres=self._genres(args.exclude_genres),
            moods=args.moods,
            liked_titles=[self.title(t).id for t in args.liked_titles],
            disliked_titles=[self.title(t).id for t in args.disliked_titles],
            seen_titles=[self.title(t).id for t in args.seen_titles],
            people=args.people,
            exclude_people=args.exclude_people,
            year_min=args.year_min,
            year_max=args.year_max,
            max_runtime=args.max_runtime,
            audience=args.audience,
            maturity_limit="PG" if args.audience in KIDS_AUDIENCES else None,
        )
        self.state.preferences = self.state.preferences.merged(update)
        return ToolResult(ok=True, content={"preferences": self.state.preferences.model_dump()})

    def _feedback(self, args: FeedbackArgs) -> ToolResult:
        title = self.title(args.title)
        self.feedback(title.id, args.feedback)
        return ToolResult(ok=True, content={"recorded": args.feedback, "title": title.name})

    def _my_list(self, args: MyListArgs) -> ToolResult:
        if args.action != "show":
            if args.title is None:
                raise ToolError(f"my_list {args.action!r} needs a title")
            if self.viewer.record is None:
                raise ToolError("My List is kept for a signed-in profile only")
            title = self.title(args.title)
            kind = EventKind.ADD_TO_LIST if args.action == "add" else EventKind.REMOVE_FROM_LIST
            self.viewer.record(
                [
                    Event(
                        # One id per (conversation, turn, action, title): a turn retried by the offline
                        # policy stores it once; adding it again in a later turn is a new addition.
                        event_id=f"chat-{self.state.id}-{self.state.turns}-{kind.value}-{title.id}",
                        profile_id=self.viewer.profile_id,
                        title_id=title.id,
                        kind=kind,
                        ts=time.time(),
                        context={"source": "assistant", "conversation": self.state.id},
                    )
                ]
            )
        saved = self.engine.my_list(self.viewer.context()).items
        content: dict[str, Any] = {
            "my_list": [{"title_id": i.title_id, "name": i.name, "year": i.year} for i in saved]
        }
        if args.action != "show":
            content[{"add": "added", "remove": "removed"}[args.action]] = title.name
        return ToolResult(ok=True, content=content)

    # -- helpers both drivers use -------------------------------------------------------------

    def feedback(self, title_id: int, kind: str) -> None:
        """Remember it in the conversation and, for a stored profile, in its history."""
        update = {
            "seen": PreferenceUpdate(seen_titles=[title_id]),
            "liked": PreferenceUpdate(liked_titles=[title_id]),
            "disliked": PreferenceUpdate(disliked_titles=[title_id]),
            "not_interested": PreferenceUpdate(disliked_titles=[title_id]),
        }[kind]
        self.state.preferences = self.state.preferences.merged(update)
        event = {"seen": EventKind.COMPLETE, "liked": EventKind.THUMB_UP, "disliked": EventKind.THUMB_DOWN}
        if self.viewer.record is not None and kind in event:
            self.viewer.record(
                [
                    Event(
                        # One id per (conversation, title, feedback): saying it twice, or a failed LLM
                        # turn followed by the offline policy, stores it once.
                        event_id=f"chat-{self.state.id}-{kind}-{title_id}",
                        profile_id=self.viewer.profile_id,
                        title_id=title_id,
                        kind=event[kind],
                        ts=time.time(),
                        context={"source": "assistant", "conversation": self.state.id},
                    )
                ]
            )

    def explanation(self, title: Title) -> str:
        """Why this title would suit the viewer: the sources that would propose it, else its genres."""
        context = self.context(exclude_shown=False)
        history = context.history
        # Said only as it is: watched, started, or turned down; each is a different fact.
        if title.id in set(history.items.tolist()):
            return f"You have already watched {title.name}"
        if title.id in history.in_progress:
            return f"You have started {title.name}"
        if title.id in history.disliked or title.id in self.state.preferences.disliked_titles:
            return f"You turned {title.name} down earlier"
        candidates = self.engine.candidates(context)
        reasons = [c.reason for i, _, prov in candidates if i == title.id for c in prov]
        return reasons[0] if reasons else _plain_reason(title, self.state.preferences.genres)

    def excluded(self, context: Context) -> frozenset[int]:
        """Titles never to recommend: seen, rejected or disliked here, or in the history of `context`."""
        prefs = self.state.preferences
        said = set(prefs.seen_titles) | set(prefs.disliked_titles)
        return frozenset(said) | context.history.seen()

    def context(self, *, exclude_shown: bool = True) -> Context:
        """The viewer's context narrowed by the conversation; titles already shown left out by default."""
        base = self.viewer.context()
        shown = frozenset(self.state.shown) if exclude_shown else frozenset()
        constraints = self.state.preferences.constraints(base.constraints, exclude=shown)
        return replace(base, constraints=constraints)

    def title(self, ref: int | str) -> Title:
        titles = self.engine.titles()
        if isinstance(ref, int):
            if ref not in titles:
                raise ToolError(f"unknown title id {ref}")
            return titles[ref]
        found = self.lexicon.titles.resolve(ref)
        if found is None:
            raise ToolError(f"no title in the catalog is called {ref!r}; use search_titles to find it")
        return titles[found]

    def _genres(self, names: list[str]) -> list[str]:
        out = []
        for name in names:
            genre = self.lexicon.genre(name)
            if genre is None:
                raise ToolError(f"unknown genre {name!r}; valid: {', '.join(self.lexicon.genres)}")
            out.append(genre)
        return out

    def _noted(self, found: _Answer) -> _Answer:
        """The engine's answer, its fallback remembered so that the turn's reply says it is degraded."""
        self.degraded = self.degraded or found.degraded
        return found

    def _listing(self, found: list[Recommendation], *, offer: bool) -> ToolResult:
        cards = [TitleCard.of(r.title, r.explanation) for r in found]
        content = {"titles": [c.model_dump() for c in cards]}
        if not cards:
            content["note"] = "nothing in the catalog fits; relax a constraint"
        return ToolResult(ok=True, content=content, titles=cards if offer else [])


@dataclass(frozen=True)
class Tool:
    args: type[Args]  # its arguments; the docstring is the description a model reads
    run: Callable[[Toolbox, Any], ToolResult]


# The assistant's tools by the name a model calls them: the one registry that calls are run from and
# the function-calling specs are written from.
TOOLS: dict[str, Tool] = {
    "search_titles": Tool(SearchArgs, Toolbox._search),
    "recommend": Tool(RecommendArgs, Toolbox._recommend),
    "similar_titles": Tool(SimilarArgs, Toolbox._similar),
    "explain_title": Tool(ExplainArgs, Toolbox._explain),
    "homepage_rows": Tool(RowsArgs, Toolbox._rows),
    "update_preferences": Tool(PreferencesArgs, Toolbox._update),
    "record_feedback": Tool(FeedbackArgs, Toolbox._feedback),
    "my_list": Tool(MyListArgs, Toolbox._my_list),
}


def _features(title: Title, people: list[str]) -> bool:
    credits = [p.lower() for p in title.cast + title.directors]
    return any(person in c for person in people for c in credits)


def _about(title: Title, moods: list[str]) -> bool:
    """Whether a title's keywords or tags name one of these moods ("violent" finds "violence")."""
    words = " ".join(k.lower() for k in (*title.keywords, *title.tags))
    return any(mood[: max(4, len(mood) - 2)] in words for mood in moods)


def _plain_reason(title: Title, wanted: list[str]) -> str:
    shared = [g for g in title.genres if g in wanted]
    if shared:
        return f"A {'/'.join(shared).lower()} title, as you asked"
    kinds = "/".join(title.genres).lower() or "catalog"
    return f"A {kinds} title; not among your strongest matches"


def _error(message: str) -> ToolResult:
    return ToolResult(ok=False, content={"error": message})


def _brief(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        problems = exc.errors()[:5]
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in problems)
    return str(exc)
