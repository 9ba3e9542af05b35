"""People named in free text ("Tom Hanks", "anything with Hanks", "starring Keanu", "Jim Carey"), resolved
against the catalog's cast and directors."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from engine import Title

CAST_LISTED = 6  # billed cast per title that counts: extras named once are not whom people ask for
FUZZY_CUTOFF = 88.0  # "Jim Carey" finds Jim Carrey; "Tim Roth" does not become Tom Roth
# A single name counts after one of these cues ("with Hanks", "starring Keanu"), or capitalized mid-text
# when it is a surname ("no Tarantino"): a lone first name elsewhere is too often someone else.
_CUE = re.compile(
    r"\b(with|starring|stars|by|directed by|director|actor|actress|anything with|movies with|films with|"
    r"stand|fan of|love|like|likes|loved|liked|hate|hated|no|not|except)\s+$",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[A-Za-zÀ-ÿ][\w'’.-]*")
_COMMON = frozenset((
    "the", "a", "an", "and", "or", "but", "with", "by", "for", "from", "into", "about", "over", "after",
    "before", "new", "old", "good", "great", "best", "big", "little", "young", "man", "men", "woman",
    "women", "girl", "boy", "king", "queen", "star", "stars", "war", "love", "life", "day", "night",
    "time", "world", "story", "black", "white", "red", "blue", "green", "dark", "light", "house",
    "home", "city", "town", "movie", "movie", "film", "films", "show", "something", "anything",
    "nothing", "everything", "maybe", "please", "thanks", "yes", "no", "not", "hi", "hello", "hey",
    "sure", "okay", "also", "just", "really", "will", "may", "can", "mark", "grace", "hope", "rose",
    "faith", "joy", "chase", "hunter", "summer"
))  # fmt: skip


@dataclass(frozen=True)
class PersonMention:
    name: str  # as the catalog writes it
    start: int
    end: int


class PeopleIndex:
    def __init__(self, titles: Mapping[int, Title], popularity: Mapping[int, float]) -> None:
        weight: dict[str, float] = defaultdict(float)
        spelled: dict[str, str] = {}
        for t in titles.values():
            for person in (*t.directors, *t.cast[:CAST_LISTED]):
                if " " not in person.strip():
                    continue
                key = person.lower()
                spelled.setdefault(key, person)
                weight[key] += 1.0 + popularity.get(t.id, 0.0)
        self._full = spelled
        # A surname or first name means the best-known person who has it.
        by_last: dict[str, str] = {}
        by_first: dict[str, str] = {}
        for key in sorted(weight, key=lambda k: -weight[k]):
            parts = key.split()
            by_last.setdefault(parts[-1], key)
            by_first.setdefault(parts[0], key)
        self._last = by_last
        self._first = by_first
        self._names = list(spelled)

    def mentions(
        self, text: str, *, taken: set[int] | None = None, titles: set[int] | None = None
    ) -> list[PersonMention]:
        """People named in `text`, full names first, spans not overlapping `taken` character positions.
        A full name may cover a title's name ("by Stanley Kubrick"); a single word never does (the "Park"
        of "Jurassic Park" is not Nick Park)."""
        taken = set(taken or ())
        tokens = [
            (m.group().rstrip(".'’"), m.start(), m.start() + len(m.group().rstrip(".'’")))
            for m in _TOKEN.finditer(text)
        ]
        found: list[PersonMention] = []
        for size in (3, 2):
            for i in range(len(tokens) - size + 1):
                span = tokens[i : i + size]
                start, end = span[0][1], span[-1][2]
                if not taken.isdisjoint(range(start, end)):
                    continue
                key = " ".join(w.lower() for w, _, _ in span)
                name = self._full.get(key)
                if name is None and size == 2 and self._name_like(span, text):
                    hit = process.extractOne(key, self._names, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
                    name = self._full[hit[0]] if hit else None
                if name is not None:
                    found.append(PersonMention(name, start, end))
                    taken.update(range(start, end))
        taken |= titles or set()
        for word, start, end in tokens:
            if not taken.isdisjoint(range(start, end)) or len(word) < 3 or word.lower() in _COMMON:
                continue
            cued = bool(_CUE.search(text[:start]))
            before = text[:start].rstrip()
            mid_text = bool(before) and before[-1] not in ".!?\n" and word[0].isupper()
            key = self._last.get(word.lower()) if (cued or mid_text) else None
            if key is None and cued:
                key = self._first.get(word.lower())
            if key is not None:
                found.append(PersonMention(self._full[key], start, end))
                taken.update(range(start, end))
        return sorted(found, key=lambda m: m.start)

    @staticmethod
    def _name_like(span: list[tuple[str, int, int]], text: str) -> bool:
        """Two capitalized words, or two words after a cue ("with will ferel"): worth a fuzzy look."""
        words = [w for w, _, _ in span]
        if any(w.lower() in _COMMON for w in words):
            return False
        return all(w[:1].isupper() for w in words) or bool(_CUE.search(text[: span[0][1]]))
