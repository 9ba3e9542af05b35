"""Titles named in free text: resolve a name to a catalog id, and find the names a sentence mentions."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from engine import Title

FUZZY_CUTOFF = 88.0  # a typo ("Incepton") passes; a different film ("Insomnia") does not
MAX_NAME_WORDS = 8
# One-word names that are also everyday words ("Her", "Up", "Heat") count only when capitalized mid-text.
COMMON_NAME_CHARS = 5
# "like" as in "something like X", not as in "I'd like a war film".
_CUE = re.compile(
    r"(\b(seen|saw|watched|liked|likes|loved|enjoyed|hated|disliked|than|similar to|such as|finished|"
    r"rewatched|the movie|the film)|(?<!'d )(?<!would )\blike)\s*[\"“']?$",
    re.IGNORECASE,
)
# A verdict right after the name cues it too: "Jaws was boring", "Heat is great".
_VERDICT_AFTER = re.compile(
    r"^\s*(was|is|were)\s+(so\s+|really\s+|too\s+|way\s+)?(boring|great|awesome|amazing|good|bad|terrible|"
    r"awful|overrated|fantastic|brilliant|dull|funny|scary|slow|long|stupid)\b",
    re.IGNORECASE,
)
# A name listed after another ("like V for Vendetta or The Game") shares that name's cue.
_LISTED = re.compile(r"(,|\bor|\band)\s*$", re.IGNORECASE)
# A name followed by "film", "movie"... is a description ("a war film"), unless written as a name.
_GENERIC_AFTER = re.compile(
    r"\s*(film|films|movie|movies|flick|flicks|one|ones|story|stories)\b", re.IGNORECASE
)
_WORD = re.compile(r"[\w'’&:-]+|[^\w\s]")


def normalize(name: str) -> str:
    """Lower case, no accents, no punctuation, no leading article, and no alias in brackets."""
    name = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    name = re.sub(r"\s*\(.*?\)", "", name.lower())
    name = re.sub(r"[^\w\s&]", " ", name)
    name = re.sub(r"^(the|a|an)\s+", "", name.strip())
    return re.sub(r"\s+", " ", name).strip()


@dataclass(frozen=True)
class Mention:
    title_ids: tuple[int, ...]  # most watched first; several for a franchise ("Star Wars")
    start: int  # character span in the text
    end: int

    @property
    def title_id(self) -> int:
        return self.title_ids[0]


class TitleResolver:
    def __init__(self, titles: Mapping[int, Title], popularity: Mapping[int, float]) -> None:
        self._titles = titles
        by_name: dict[str, list[int]] = defaultdict(list)
        for t in titles.values():
            # Each name it goes by: "Seven (a.k.a. Se7en)" is named by "Se7en" too, "Hate (La Haine)" by
            # "La Haine".
            for key in dict.fromkeys(normalize(n) for n in t.names):
                if key:
                    by_name[key].append(t.id)
        # Remakes share a name; the one people watch most is the one they usually mean.
        self._by_name = {k: sorted(ids, key=lambda i: -popularity.get(i, 0.0)) for k, ids in by_name.items()}
        self._names = list(self._by_name)
        # "Star Wars" names the films called "Star Wars: ...": a franchise is its titles' shared prefix.
        series: dict[str, list[int]] = defaultdict(list)
        for t in titles.values():
            head = normalize(t.name.split(":")[0]) if ":" in t.name else ""
            if len(head) >= 4:
                series[head].append(t.id)
        self._series = {
            k: sorted(ids, key=lambda i: -popularity.get(i, 0.0))
            for k, ids in series.items()
            if k not in self._by_name
        }

    def resolve(self, name: str) -> int | None:
        """The catalog id a name means ("the matrix", "Incepton", "Heat (1995)"), or None."""
        year = re.search(r"\b(18|19|20)\d\d\b", name)
        key = normalize(name[: year.start()] + name[year.end() :]) if year else normalize(name)
        if year and not key:  # a film named by a year ("1917")
            key = normalize(name)
        if not key:
            return None
        ids = self._by_name.get(key)
        if ids is None:
            found = process.extractOne(key, self._names, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if found is None:
                return None
            ids = self._by_name[found[0]]
        if year:
            dated = [i for i in ids if self._titles[i].year == int(year.group())]
            ids = dated or ids
        return ids[0]

    def mentions(self, text: str) -> list[Mention]:
        """Titles named in a sentence, longest names first, spans not overlapping.

        Only exact names (articles and punctuation aside) count: fuzzy matching every phrase of a
        sentence would read "something dark" as a film called "Something Dark".
        """
        tokens = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]
        found: list[Mention] = []
        taken: set[int] = set()
        for size in range(min(MAX_NAME_WORDS, len(tokens)), 0, -1):
            for i in range(len(tokens) - size + 1):
                span = tokens[i : i + size]
                if any(j in taken for j in range(i, i + size)):
                    continue
                start, end = span[0][1], span[-1][2]
                phrase = text[start:end]
                key = normalize(phrase)
                ids = self._by_name.get(key, [])[:1] or self._series.get(key)
                before = text[:start]
                if (listed := _LISTED.search(before)) and any(
                    m.end == len(before[: listed.start()].rstrip()) for m in found
                ):
                    before = "like "  # listed after a title: read as cued as the list is
                if not ids or not self._plausible(phrase, before, text[end:]):
                    continue
                found.append(Mention(tuple(ids), start, end))
                taken.update(range(i, i + size))
        return sorted(found, key=lambda m: m.start)

    @staticmethod
    def _plausible(phrase: str, before: str, after: str) -> bool:
        """Whether a phrase that equals a title's name is meant as that title.

        Long names are distinctive. Shorter ones are often plain words ("the game", "an english teacher",
        "a war film"): they count after a cue such as "seen" or "like", or when written as a name
        (capitalized) anywhere but the start of a sentence; the shortest ("It", "Her") need both.
        """
        key = normalize(phrase)
        words = key.split()
        if len(key) < 2 or _GENERIC_AFTER.match(after) and not phrase[:1].isupper():
            return False
        if len(words) >= 4 or len(key) > 18:
            return True
        first = next((w for w in phrase.split() if w.lower() not in ("the", "a", "an")), phrase)
        capitalized = first[:1].isupper() and not phrase.isupper()
        mid_text = bool(before.strip()) and before.rstrip()[-1] not in ".!?\n"
        cued = bool(_CUE.search(before) or _VERDICT_AFTER.match(after))
        if len(words) == 1 and len(key) <= COMMON_NAME_CHARS:  # "it", "her", "up": only when so written
            return capitalized and cued
        articled = phrase.split()[0].lower() in ("the", "a", "an")
        return cued and (capitalized or articled or len(words) >= 2) or capitalized and mid_text
