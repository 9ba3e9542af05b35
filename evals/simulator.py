"""A simulated viewer who wants one hidden title and talks about it without ever naming it.

The viewer knows the target's genres, year, keywords and tags, people and plot, as someone who half
remembers a film or knows what they are in the mood for. They open with a request built from a few of
those facts, answer a question with another fact, and turn down wrong picks with a reason drawn from the
target ("something from the 90s", "I'd like a comedy", "something about time travel", "I've seen Heat").
Every fact is said once; every hard constraint said (genres, excluded genres, era, runtime) is kept in
`stated` so the evaluation can judge the picks against it. Every sentence is a real ReDial seeker's
message with the fact put in its slot (`evals.phrasebook`): the phrasing is people's, not the parser's;
a kind of fact no seeker message phrases (runtime) is not said.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.lexicon import GENRE_SYNONYMS
from catalog import Title
from evals.hard_constraints import Judged, Stated
from evals.phrasebook import Phrasebook

# How the viewer says a genre, used before a noun ("an animated comedy", "a sci-fi film").
GENRE_WORDS = {
    "Action": "action", "Adventure": "adventure", "Animation": "animated", "Children": "children's",
    "Comedy": "comedy", "Crime": "crime", "Documentary": "documentary", "Drama": "drama",
    "Fantasy": "fantasy", "Film-Noir": "noir", "Horror": "horror", "Musical": "musical",
    "Mystery": "mystery", "Romance": "romantic", "Sci-Fi": "sci-fi", "Thriller": "thriller",
    "War": "war", "Western": "western",
}  # fmt: skip
MODIFIERS = frozenset(("animated", "romantic", "children's", "noir", "musical", "war", "crime"))
# Genres a viewer rules out, as they would say it ("but no musicals").
AVOIDED = {
    "Horror": "horror", "Documentary": "documentaries", "Musical": "musicals", "War": "war movies",
    "Western": "westerns", "Romance": "romance", "Animation": "animation",
}  # fmt: skip
# Keywords that say nothing about a film's content, or that a parser would read as something else
# (a genre, an era, a length, a negation, an audience): the viewer would not pick them to describe it.
META_KEYWORDS = frozenset((
    "independent film", "woman director", "duringcreditsstinger", "aftercreditsstinger", "sequel",
    "remake", "3d", "in netflix queue", "nudity", "female nudity", "sex", "based on novel", "imdb top 250",
    "netflix", "dvd", "clv", "owned", "seen more than once", "bd-r", "criterion", "library",
))  # fmt: skip
_AMBIGUOUS_WORDS = frozenset((
    "old", "older", "classic", "classics", "vintage", "recent", "new", "newer", "modern", "latest",
    "short", "long", "quick", "brief", "no", "not", "never", "nothing", "without", "less", "kid", "kids",
    "children", "family", "toddler", "seen", "watched", "why", "homepage", "else", "different",
))  # fmt: skip
_SYNONYM_WORDS = frozenset(w for words in GENRE_SYNONYMS.values() for phrase in words for w in phrase.split())
_OPENERS = frozenset((
    "a", "an", "the", "when", "after", "before", "in", "at", "on", "as", "while", "with", "during", "set",
    "two", "three", "four", "this", "one", "young", "based", "following", "from", "since", "there",
    "for", "to", "by", "upon", "having", "unable", "trapped", "faced", "forced", "once", "living",
    "growing", "an", "following", "inspired", "years", "what", "it's", "his", "her", "their",
))  # fmt: skip
MAX_KEYWORDS = 3
GIST_WORDS = 14


@dataclass(frozen=True)
class Move:
    """One fact the viewer can say: its kind, its words, and the hard constraint it states (if any)."""

    kind: str  # genre | topic | era | person | runtime | exclude
    words: str  # a phrase that slots into a sentence ("about time travel", "from the 90s"), or a genre word
    stated: Stated = field(default_factory=Stated)


@dataclass(frozen=True)
class Facts:
    """What the viewer knows about the target, already cut to things they could say."""

    genres: tuple[str, ...]
    year: int | None
    keywords: tuple[str, ...]
    people: tuple[tuple[str, str], ...]  # (role, name): ("director", "George Miller"), ("cast", ...)
    gist: str
    runtime: int | None


def keyword_counts(titles: Mapping[int, Title]) -> Counter[str]:
    """How many titles carry each keyword or tag: a viewer describes a film by what it shares."""
    return Counter(k.lower().strip() for t in titles.values() for k in {*t.keywords, *t.tags})


def facts_of(target: Title, counts: Mapping[str, int], *, plot: bool = True) -> Facts:
    stems = _title_stems(target)
    people_lower = {p.lower() for p in (*target.directors, *target.cast)}
    keywords = []
    for raw in dict.fromkeys(k.lower().strip() for k in (*target.keywords, *target.tags)):
        words = raw.split()
        if (
            not raw.isascii()
            or not re.fullmatch(r"[a-z][a-z' -]*[a-z]", raw)
            or len(words) > 3
            or raw in META_KEYWORDS
            or raw in people_lower
            or not 2 <= counts.get(raw, 0) <= 400
            or any(w in _AMBIGUOUS_WORDS or w in _SYNONYM_WORDS for w in words)
            or raw in {p for ws in GENRE_SYNONYMS.values() for p in ws}
            or _shares_stem(words, stems)
        ):
            continue
        keywords.append(raw)
    people = [("director", d) for d in target.directors[:1]] + [("cast", c) for c in target.cast[:2]]
    return Facts(
        genres=tuple(g for g in target.genres if g in GENRE_WORDS),
        year=target.year,
        keywords=tuple(keywords),
        people=tuple((role, name) for role, name in people if " " in name and name.isascii()),
        gist=plot_gist(target.overview, stems) if plot else "",
        runtime=target.runtime,
    )


def plot_gist(overview: str, stems: frozenset[str]) -> str:
    """The opening of the plot in lower case, without names (capitalized words) or title words."""
    first = re.split(r"(?<=[.!?])\s+", overview.strip())[0] if overview.strip() else ""
    tokens = first.split()
    kept: list[str] = []
    for i, token in enumerate(tokens):
        core = re.sub(r"[^\w'-]", "", token)
        if not core or not core.isascii():
            continue
        if core[:1].isupper() and (i > 0 or _names_someone(tokens, overview)):
            if i == 0:  # the sentence's subject is a name: "someone" stands in for it
                kept.append("someone")
            continue
        if _shares_stem([core.lower()], stems):
            continue
        kept.append(re.sub(r"[^\w',-]", "", token).lower())
    if kept[:1] == ["someone"] and len(kept) > 1 and kept[1] in _OPENERS:
        kept.pop(0)  # "Andy, a ..." never needed a stand-in
    text = re.sub(r"\s+,", ",", " ".join(kept)).strip(" ,")
    words = text.split()
    if len(words) > GIST_WORDS:  # cut after a comma when there is one late enough, else at the limit
        commas = [i for i, w in enumerate(words[:GIST_WORDS]) if w.endswith(",") and i >= 5]
        words = words[: commas[-1] + 1] if commas else words[:GIST_WORDS]
    while words and words[-1].strip(",") in _OPENERS | {"and", "of", "who", "that", "is", "are"}:
        words.pop()
    return " ".join(words).strip(" ,") if len(words) >= 4 else ""


def _names_someone(tokens: Sequence[str], overview: str) -> bool:
    """Whether a plot's first word is a name ("Andy Stitzer has...", "Woody, a cowboy doll... Woody")
    rather than an ordinary capitalized word ("Obsessive master thief...", "When...")."""
    first = re.sub(r"[^\w'-]", "", tokens[0])
    if first.lower() in _OPENERS:
        return False
    following = tokens[1][:1] if len(tokens) > 1 else ""
    return following.isupper() or overview.count(first) > 1


class SimulatedUser:
    def __init__(
        self,
        target: Title,
        *,
        facts: Facts,
        seen: frozenset[int],
        titles: Mapping[int, Title],
        latest_year: int,
        rng: np.random.Generator,
        phrases: Phrasebook,
    ) -> None:
        self.target = target
        self.phrases = phrases
        self.facts = facts
        self.seen = seen - {target.id}  # the viewer's whole history: they say so when shown one
        self.titles = titles
        self.latest_year = latest_year
        self.rng = rng
        self.stated = Stated()
        self.declared_seen: set[int] = set()
        self.said: list[str] = []
        self.said_topics = False  # a topic (keyword or plot) has been said
        self.last_kinds: frozenset[str] = frozenset()  # the kinds of fact the last message said
        self._used: set[str] = set()
        self._moves = self._all_moves()

    # -- what the viewer says -----------------------------------------------------------------------

    def opening(self) -> str:
        """The first request: a genre or two and a topic, sometimes an era, a person, a limit."""
        genres = [m for m in self._moves if m.kind == "genre"]
        size = min(len(genres), 2 if self.rng.random() < 0.4 else 1)
        picks = [genres[int(i)] for i in sorted(self.rng.choice(len(genres), size=size, replace=False))]
        topics = [m for m in self._moves if m.kind == "topic"]
        extras = []
        if topics:
            extras.append(topics[0] if self.rng.random() < 0.6 or len(topics) == 1 else topics[-1])
        for kind, chance in (("era", 0.35), ("person", 0.25), ("runtime", 0.15), ("exclude", 0.2)):
            options = [m for m in self._moves if m.kind == kind]
            if options and self.rng.random() < chance:
                extras.append(options[int(self.rng.integers(len(options)))])
        if picks:
            # Modifiers first, as people say it: "romantic comedy", "animated adventure".
            words = sorted((m.words for m in picks), key=lambda w: w not in MODIFIERS)
            head = self.phrases.say("genre", self.rng, genre=" ".join(words))
        elif extras:
            head, extras = self._sentence(extras[0]), extras[1:]
        else:
            return self._say(self._reject(), [])
        said = [head, *(self._sentence(m) for m in extras)]
        return self._say(" ".join(said), [*picks, *extras])

    def respond(self, *, question: bool, picks: Sequence[tuple[int, Judged, str]]) -> str:
        """The next message: an answer to a question, or why the picks (id, title, name) are wrong."""
        if question:  # say another fact; restate the era, which an offer to drop it may be about
            move = self._next_move(picks=[])
            era = [m for m in self._moves if m.kind == "era" and m.words in self._used]
            said = [self._sentence(m) for m in [*era, move] if m is not None]
            return self._say(" ".join(said) or self._reject(), [*era, move] if move else era)
        parts: list[str] = []
        seen = [(i, name) for i, _, name in picks if i in self.seen and not self._names_target(name)][:2]
        if seen:
            self.declared_seen.update(i for i, _ in seen)
            parts += [self.phrases.say("seen", self.rng, title=name) for _, name in seen]
        if picks:
            parts.append(self._reject())
        move = self._next_move(picks=[t for _, t, _ in picks])
        if move is not None:
            parts.append(self._sentence(move))
        return self._say(" ".join(parts) or self._reject(), [move] if move else [])

    def _sentence(self, move: Move) -> str:
        """One fact in a real seeker's words."""
        if move.kind in ("genre", "exclude"):
            return self.phrases.say(move.kind, self.rng, genre=move.words)
        return self.phrases.say(move.kind, self.rng, x=move.words)

    def _reject(self) -> str:
        return self.phrases.say("reject", self.rng)

    # -- choosing what to say ----------------------------------------------------------------------

    def _next_move(self, *, picks: Sequence[Judged]) -> Move | None:
        """A fact the wrong picks contradict if there is one (a genre none of them has, an era most of
        them miss), else the next unsaid topic, person or plot, else any fact left."""
        left = [m for m in self._moves if m.words not in self._used]
        if not left:
            return None
        diagnostic = []
        for m in left:
            if m.kind == "genre" and picks and not any(m.stated.genres & set(p.genres) for p in picks):
                diagnostic.append(m)
            if (
                m.kind == "era"
                and picks
                and sum(not m.stated.satisfied_by(p) for p in picks) * 2 >= len(picks)
            ):
                diagnostic.append(m)
        if diagnostic:
            return diagnostic[int(self.rng.integers(len(diagnostic)))]
        for kinds in (("topic", "person"), ("genre", "era"), ("runtime",)):
            options = [m for m in left if m.kind in kinds]
            if options:
                return (
                    options[0]
                    if options[0].kind == "topic"
                    else options[int(self.rng.integers(len(options)))]
                )
        return None

    def _all_moves(self) -> list[Move]:
        f = self.facts
        moves = [Move("genre", GENRE_WORDS[g], Stated(genres=frozenset({g}))) for g in f.genres]
        topics = [
            f"about {k}" for k in self.rng.permutation(list(f.keywords[: MAX_KEYWORDS * 2]))[:MAX_KEYWORDS]
        ]
        if f.gist:
            lead = "where" if f.gist.split()[0] in ("a", "an", "the", "someone") else "about"
            topics.insert(int(self.rng.integers(len(topics) + 1)), f"{lead} {f.gist}")
        moves += [Move("topic", t) for t in topics]
        if f.year is not None:
            moves.append(self._era(f.year))
        moves += [
            Move("person", ("directed by " if role == "director" else "with ") + name)
            for role, name in f.people
        ]
        if f.runtime is not None and f.runtime <= 120:
            words, limit = ("under 90 minutes", 90) if f.runtime <= 90 else ("under 2 hours", 120)
            moves.append(Move("runtime", words, Stated(max_runtime=limit)))
        avoid = [g for g in AVOIDED if g not in self.target.genres]
        if avoid:
            g = avoid[int(self.rng.integers(len(avoid)))]
            moves.append(Move("exclude", GENRE_WORDS[g], Stated(exclude_genres=frozenset({g}))))
        return [m for m in moves if self.phrases.has(m.kind) and not says_title(m.words, self.target)]

    def _era(self, year: int) -> Move:
        decade = year // 10 * 10
        name = f"{decade % 100}s" if 1950 <= decade < 2000 else f"{decade}s"
        return Move("era", f"from the {name}", Stated(year_min=decade, year_max=decade + 9))

    def _say(self, text: str, moves: Sequence[Move]) -> str:
        if says_title(text, self.target):  # never: fall back to a reply that names nothing
            text, moves = self._reject(), []
        self.last_kinds = frozenset(m.kind for m in moves)
        for m in moves:
            self._used.add(m.words)
            self.said_topics |= m.kind == "topic"
            self.stated = self.stated.plus(m.stated)
        self.said.append(text)
        return text

    def _names_target(self, name: str) -> bool:
        return _tokens(_main_name(name)) == _tokens(_main_name(self.target.name))


def says_title(text: str, title: Title) -> bool:
    """True when the text contains the title's name (or its alternative name in brackets) as words."""
    words = _tokens(text)
    for name in _names(title.name):
        key = _tokens(name)
        if key and any(words[i : i + len(key)] == key for i in range(len(words) - len(key) + 1)):
            return True
    return False


def _names(name: str) -> list[str]:
    alternatives = [re.sub(r"^a\.k\.a\.\s*", "", a.strip()) for a in re.findall(r"\(([^)]*)\)", name)]
    return [_main_name(name), *(a for a in alternatives if a)]


def _main_name(name: str) -> str:
    return re.sub(r"\s*\(.*?\)", "", name)


def _tokens(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))
    return words[1:] if words[:1] in (["the"], ["a"], ["an"]) and len(words) > 1 else words


def _title_stems(title: Title) -> frozenset[str]:
    return frozenset(w[:5] for name in _names(title.name) for w in _tokens(name) if len(w) >= 4)


def _shares_stem(words: Sequence[str], stems: frozenset[str]) -> bool:
    return any(w[:5] in stems for word in words for w in _tokens(word) if len(w) >= 4)
