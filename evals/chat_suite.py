"""Single-turn requests with hard constraints ("90s sci-fi under 2 hours, not Star Wars").

Each request is generated from the catalog (genres, decades and a franchise it really holds, with enough
titles that fit) and sent as the first message of a new conversation. It passes when the assistant read
every constraint as meant (its dialogue state afterwards) and every title it returned keeps them. Tool-call
validity: every call the dialogue driver made through the toolbox succeeded, and the typed `recommend`
call an LLM would make for the same request validates and returns only titles that fit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.preferences import Preferences
from assistant.service import Assistant
from assistant.state import DialogueState
from assistant.tools import Toolbox, ToolResult, Viewer
from catalog import Title
from evals.hard_constraints import Stated
from evals.simulator import AVOIDED, GENRE_WORDS

MIN_FITTING = 5  # a request the catalog can answer with fewer titles than this is not generated
PICKS = 5
DECADES = (1950, 1960, 1970, 1980, 1990, 2000, 2010)
YEARS = (1970, 1980, 1990, 2000)
_GENRES = tuple(g for g in GENRE_WORDS if g != "Children")  # "children's" also asks for a kids' rating


@dataclass(frozen=True)
class Request:
    text: str
    expected: Stated
    all_genres: bool = False  # "a romantic comedy": the strict reading wants every genre named
    named: str = ""  # a franchise or title ruled out by name


class RecordingToolbox(Toolbox):
    """The assistant's toolbox, noting every call and whether it succeeded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log: list[tuple[str, bool]] = []
        self._depth = 0

    def call(self, name: str, arguments: str | dict[str, Any] | None) -> ToolResult:
        self._depth += 1
        try:
            result = super().call(name, arguments)
        finally:
            self._depth -= 1
        self.log.append((name, result.ok))
        return result

    def recommendations(self, k: int, *, popular_first: bool = False) -> ToolResult:
        result = super().recommendations(k, popular_first=popular_first)
        if not self._depth:  # the offline policy asks for picks directly, not through `call`
            self.log.append(("recommend", result.ok))
        return result


def generate(titles: Mapping[int, Title], popularity: Mapping[int, float], *, seed: int) -> list[Request]:
    """About fifteen requests, each with at least MIN_FITTING catalog titles that satisfy it."""
    rng = np.random.default_rng(seed)
    catalog = list(titles.values())
    latest = max((t.year for t in catalog if t.year), default=2020)
    c = _Catalog(catalog, popularity, latest)
    out: list[Request] = []
    for make in _TEMPLATES:
        for _ in range(30):  # a few draws until the catalog holds enough fitting titles
            request = make(rng, c)
            if request is not None and _fitting(request, catalog) >= MIN_FITTING:
                out.append(request)
                break
    return out


def run_suite(
    assistant: Assistant, requests: Sequence[Request], viewers: Sequence[Viewer], titles: Mapping[int, Title]
) -> dict[str, Any]:
    """Every request as its own one-turn conversation, viewers taken in turn."""
    rows = []
    calls = errors = typed_ok = 0
    for i, request in enumerate(requests):
        viewer = viewers[i % len(viewers)]
        tools = RecordingToolbox(
            assistant.engine, viewer, DialogueState(profile_id=viewer.profile_id), assistant.lexicon
        )
        reply = assistant.policy.turn(request.text, tools)
        problems = misread(tools.state.preferences, request, titles)
        broken = [
            f"{c.name} ({c.year}): {'; '.join(v)}"
            for c in reply.titles
            if (v := request.expected.violations(c, c.title_id))
        ]
        typed = _typed_call(assistant, viewer, request, titles)
        calls += len(tools.log) + len(typed.log)
        errors += sum(not ok for _, ok in [*tools.log, *typed.log])
        typed_fits = bool(typed.picks) and all(
            request.expected.satisfied_by(c, c.title_id) for c in typed.picks
        )
        typed_ok += typed_fits
        rows.append(
            {
                "request": request.text,
                "parsed": not problems,
                "satisfied": bool(reply.titles) and not broken,
                "all_genres": all(request.expected.all_genres(c) for c in reply.titles),
                "titles": len(reply.titles),
                "misread": problems,
                "violations": broken,
                "typed_call_satisfied": typed_fits,
            }
        )
    n = max(len(rows), 1)
    strict = [r for r, q in zip(rows, requests, strict=True) if q.all_genres]
    return {
        "requests": len(rows),
        "constraint_satisfaction": sum(r["parsed"] and r["satisfied"] for r in rows) / n,
        "parsed": sum(r["parsed"] for r in rows) / n,
        "titles_satisfied": sum(r["satisfied"] for r in rows) / n,
        "strict_genres": sum(r["all_genres"] for r in strict) / max(len(strict), 1),
        "tool_calls": calls,
        "tool_call_validity": (calls - errors) / max(calls, 1),
        "typed_call_satisfaction": typed_ok / n,
        "results": rows,
    }


def misread(prefs: Preferences, request: Request, titles: Mapping[int, Title]) -> list[str]:
    """How the dialogue state after the turn differs from what the request meant."""
    want = request.expected
    out = []
    if set(prefs.genres) != want.genres:
        out.append(f"genres {sorted(prefs.genres)} for {sorted(want.genres)}")
    if set(prefs.exclude_genres) != want.exclude_genres:
        out.append(f"excluded genres {sorted(prefs.exclude_genres)} for {sorted(want.exclude_genres)}")
    if (prefs.year_min, prefs.year_max) != (want.year_min, want.year_max):
        out.append(f"years {prefs.year_min}..{prefs.year_max} for {want.year_min}..{want.year_max}")
    if prefs.max_runtime != want.max_runtime:
        out.append(f"runtime {prefs.max_runtime} for {want.max_runtime}")
    if want.exclude_titles and not want.exclude_titles <= set(prefs.disliked_titles) | set(prefs.seen_titles):
        missed = sorted(titles[t].name for t in want.exclude_titles - set(prefs.disliked_titles))
        out.append(f"{request.named!r} not ruled out: {', '.join(missed[:3])}")
    if prefs.liked_titles:
        out.append(f"read as liked titles: {', '.join(titles[t].name for t in prefs.liked_titles[:3])}")
    return out


@dataclass
class _Typed:
    log: list[tuple[str, bool]] = field(default_factory=list)
    picks: list[Any] = field(default_factory=list)


def _typed_call(
    assistant: Assistant, viewer: Viewer, request: Request, titles: Mapping[int, Title]
) -> _Typed:
    """The tool calls a well-behaved LLM would make for the request, through the same toolbox."""
    tools = RecordingToolbox(
        assistant.engine, viewer, DialogueState(profile_id=viewer.profile_id), assistant.lexicon
    )
    want = request.expected
    if want.exclude_titles:
        names = [titles[t].display_name for t in sorted(want.exclude_titles)][:10]
        tools.call("update_preferences", {"disliked_titles": names})
    args: dict[str, Any] = {
        "genres": sorted(want.genres),
        "exclude_genres": sorted(want.exclude_genres),
        "k": PICKS,
    }
    args |= {k: v for k in ("year_min", "year_max", "max_runtime") if (v := getattr(want, k)) is not None}
    result = tools.call("recommend", args)
    return _Typed(log=tools.log, picks=result.titles)


def _fitting(request: Request, catalog: Sequence[Title]) -> int:
    want = request.expected
    return sum(want.satisfied_by(t, t.id) and (not request.all_genres or want.all_genres(t)) for t in catalog)


# -- request templates: each draws its slots from the catalog ----------------------------------------


@dataclass(frozen=True)
class _Catalog:
    titles: Sequence[Title]
    popularity: Mapping[int, float]
    latest: int


def _pick(rng: np.random.Generator, options: Sequence[Any]) -> Any:
    return options[int(rng.integers(len(options)))]


def _film(genre: str) -> str:
    word = GENRE_WORDS[genre]
    return f"{'an' if word[0] in 'aeio' else 'a'} {word} film"


def _decade(decade: int) -> str:
    return f"{decade % 100}s" if 1950 <= decade < 2000 else f"{decade}s"


def _one(genre: str, **limits: Any) -> Stated:
    return Stated(genres=frozenset({genre}), **limits)


def _avoid(rng: np.random.Generator, *taken: str) -> str:
    return _pick(rng, [g for g in AVOIDED if g not in taken])


def _series(c: _Catalog, genre: str) -> tuple[str, frozenset[int]]:
    """The franchise ("Star Wars") of a genre with the most watched titles: its name and every title in it."""
    groups: dict[str, list[Title]] = {}
    for t in c.titles:
        if ":" in t.name:
            groups.setdefault(t.name.split(":")[0].strip(), []).append(t)
    scored = [
        (sum(c.popularity.get(t.id, 0.0) for t in group), name)
        for name, group in groups.items()
        if len(group) >= 2 and len(name) >= 4 and any(genre in t.genres for t in group)
    ]
    if not scored:
        return "", frozenset()
    name = max(scored)[1]
    return name, frozenset(t.id for t in groups[name])


def _not_franchise(rng: np.random.Generator, c: _Catalog) -> Request | None:
    g = _pick(rng, ("Sci-Fi", "Action", "Adventure", "Fantasy"))
    name, ids = _series(c, g)
    decade = _pick(rng, (1980, 1990, 2000))
    text = f"{_decade(decade)} {GENRE_WORDS[g]} under 2 hours, not {name}"
    limits = {"year_min": decade, "year_max": decade + 9, "max_runtime": 120}
    return Request(text, _one(g, exclude_titles=ids, **limits), named=name) if name else None


def _not_title(rng: np.random.Generator, c: _Catalog) -> Request | None:
    g = _pick(rng, _GENRES)
    named = [t for t in c.titles if g in t.genres and ":" not in t.name and len(t.name) > 6]
    if not named:
        return None
    top = max(named, key=lambda t: c.popularity.get(t.id, 0.0))
    return Request(
        f"{_film(g)}, but not {top.name}", _one(g, exclude_titles=frozenset({top.id})), named=top.name
    )


def _before(rng: np.random.Generator, c: _Catalog) -> Request:
    g, y = _pick(rng, _GENRES), _pick(rng, YEARS)
    return Request(f"{_film(g)} from before {y}", _one(g, year_max=y - 1))


def _excluding(rng: np.random.Generator, c: _Catalog) -> Request:
    g = _pick(rng, _GENRES)
    x = _avoid(rng, g)
    text = f"no {AVOIDED[x]}, something {GENRE_WORDS[g]}"
    return Request(text, _one(g, exclude_genres=frozenset({x})))


def _in_decade(rng: np.random.Generator, c: _Catalog) -> Request:
    g, d = _pick(rng, _GENRES), _pick(rng, DECADES)
    return Request(f"{_film(g)} from the {_decade(d)}", _one(g, year_min=d, year_max=d + 9))


def _after(rng: np.random.Generator, c: _Catalog) -> Request:
    g, y = _pick(rng, _GENRES), _pick(rng, YEARS)
    return Request(f"{_film(g)} made after {y}", _one(g, year_min=y + 1))  # after 1990: 1991 on


def _since(rng: np.random.Generator, c: _Catalog) -> Request:
    g, y = _pick(rng, _GENRES), _pick(rng, YEARS)
    return Request(f"{_film(g)} since {y}", _one(g, year_min=y))


def _between(rng: np.random.Generator, c: _Catalog) -> Request:
    g, y = _pick(rng, _GENRES), _pick(rng, YEARS)
    return Request(f"{_film(g)} between {y} and {y + 15}", _one(g, year_min=y, year_max=y + 15))


def _short(rng: np.random.Generator, c: _Catalog) -> Request:
    g = _pick(rng, _GENRES)
    return Request(f"{_film(g)} under 90 minutes", _one(g, max_runtime=90))


def _not_too_long(rng: np.random.Generator, c: _Catalog) -> Request:
    g = _pick(rng, _GENRES)
    return Request(f"{_film(g)} that is not too long", _one(g, max_runtime=110))


def _classic(rng: np.random.Generator, c: _Catalog) -> Request:
    g = _pick(rng, _GENRES)
    return Request(f"an old classic {GENRE_WORDS[g]} film", _one(g, year_max=1979))


def _recent(rng: np.random.Generator, c: _Catalog) -> Request:
    g = _pick(rng, _GENRES)
    x = _avoid(rng, g)
    text = f"something recent and {GENRE_WORDS[g]}, no {AVOIDED[x]}"
    return Request(text, _one(g, exclude_genres=frozenset({x}), year_min=c.latest - 5))


def _compound(rng: np.random.Generator, c: _Catalog) -> Request:
    stated = Stated(genres=frozenset({"Romance", "Comedy"}), max_runtime=120)
    return Request("a romantic comedy under 2 hours", stated, all_genres=True)


def _two_excluded(rng: np.random.Generator, c: _Catalog) -> Request:
    g, d = _pick(rng, _GENRES), _pick(rng, DECADES)
    x = _avoid(rng, g)
    y = _avoid(rng, g, x)
    text = f"{_film(g)} from the {_decade(d)}, but no {AVOIDED[x]} or {AVOIDED[y]}"
    return Request(text, _one(g, exclude_genres=frozenset({x, y}), year_min=d, year_max=d + 9))


def _no_genre(rng: np.random.Generator, c: _Catalog) -> Request:
    d, x = _pick(rng, DECADES), _pick(rng, list(AVOIDED))
    text = f"something from the {_decade(d)}, not too long, no {AVOIDED[x]}"
    limits = {"year_min": d, "year_max": d + 9, "max_runtime": 110}
    return Request(text, Stated(exclude_genres=frozenset({x}), **limits))


_TEMPLATES: list[Callable[[np.random.Generator, _Catalog], Request | None]] = [
    _not_franchise,
    _before,
    _excluding,
    _in_decade,
    _after,
    _since,
    _between,
    _short,
    _not_too_long,
    _classic,
    _recent,
    _compound,
    _two_excluded,
    _no_genre,
    _not_title,
]
