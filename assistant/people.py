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
SHORT_FORM = 3  # letters a shortened first name shares with the full one ("Leo", "Nick", "Sam")
# A first name alone, with no cue, names a person only if it is theirs: the best known of everyone whose
# first name starts so holds this share of them ("Denzel", "Keanu", "Leo"; not "Tom" or "Jack"), and is
# among the best known people of the catalog (a first name of few films is more often a character's).
FIRST_NAME_SHARE = 0.5
WELL_KNOWN_PEOPLE = 300
# A single name counts after one of these cues ("with Hanks", "starring Keanu"), or capitalized mid-text
# when it is a surname ("no Tarantino"): a lone first name elsewhere is too often someone else.
_CUE = re.compile(
    r"\b(with|starring|stars|by|directed by|director|actor|actress|anything with|movies with|films with|"
    r"stand|fan of|love|like|likes|loved|liked|hate|hated|no|not|except)\s+$",
    re.IGNORECASE,
)
# Names people go by that no credit spells out (stage names, initials). Used only for people the catalog
# credits, and never over a title's name ("The Rock" the film, when named as one).
KNOWN_AS = {
    "the rock": "Dwayne Johnson", "jlo": "Jennifer Lopez", "j.lo": "Jennifer Lopez",
    "arnie": "Arnold Schwarzenegger", "rdj": "Robert Downey Jr.", "sly": "Sylvester Stallone",
}  # fmt: skip
_KNOWN_AS = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(k) for k in KNOWN_AS) + r")(?![\w])", re.IGNORECASE
)
_JOINING = frozenset(
    ("the", "a", "an", "i", "and", "or", "but", "with", "by", "for", "no", "not", "in", "is")
)
_SUFFIX = re.compile(r"\s+(jr|sr|ii|iii)$")
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
                key = _key(person)
                spelled.setdefault(key, person)
                weight[key] += 1.0 + popularity.get(t.id, 0.0)
        self._full = spelled
        # A surname or first name means the best-known person who has it.
        by_last: dict[str, str] = {}
        surnames: dict[str, list[str]] = defaultdict(list)
        firsts: dict[str, list[str]] = defaultdict(list)
        for key in sorted(weight, key=lambda k: -weight[k]):
            parts = key.split()
            by_last.setdefault(parts[-1], key)
            surnames[parts[-1]].append(key)
            firsts[parts[0]].append(key)
        self._last = by_last
        self._surnames = dict(surnames)
        self._firsts = dict(firsts)
        self._weight = dict(weight)
        ranked = sorted(weight.values(), reverse=True)
        self._well_known = ranked[min(WELL_KNOWN_PEOPLE, len(ranked)) - 1] if ranked else 0.0
        self._names = list(spelled)

    def mentions(
        self, text: str, *, taken: set[int] | None = None, titles: set[int] | None = None
    ) -> list[PersonMention]:
        """People named in `text`, full names first, spans not overlapping `taken` character positions.
        A full name may cover a title's name ("by Stanley Kubrick"); a single word never does (the "Park"
        of "Jurassic Park" is not Nick Park)."""
        taken = set(taken or ())
        # A possessive is its name ("Bruce Lee's movies"); trailing dots and quotes are not part of it.
        bare = (re.sub(r"['’]s$", "", m.group()).rstrip(".'’") for m in _TOKEN.finditer(text))
        tokens = [
            (w, m.start(), m.start() + len(w)) for w, m in zip(bare, _TOKEN.finditer(text), strict=True)
        ]
        found: list[PersonMention] = []
        for size in (3, 2):
            for i in range(len(tokens) - size + 1):
                span = tokens[i : i + size]
                start, end = span[0][1], span[-1][2]
                if not taken.isdisjoint(range(start, end)):
                    continue
                key = " ".join(w.lower() for w, _, _ in span)
                key = _key(key)
                name = self._full.get(key)
                if name is None and size == 2 and len(key.split()) == 2 and self._name_like(span, text):
                    hit = self._misspelled(key)
                    short = self._shortened(*key.split())
                    name = self._full[hit] if hit else self._full[short] if short else None
                if name is not None:
                    found.append(PersonMention(name, start, end))
                    taken.update(range(start, end))
        taken |= titles or set()
        for m in _KNOWN_AS.finditer(text):
            name = self._full.get(_key(KNOWN_AS[m.group().lower()]))
            written_as_name = m.group().split()[-1][:1].isupper()  # "a sly comedy" names nobody
            if name is not None and written_as_name and taken.isdisjoint(range(m.start(), m.end())):
                found.append(PersonMention(name, m.start(), m.end()))
                taken.update(range(m.start(), m.end()))
        for word, start, end in tokens:
            if not taken.isdisjoint(range(start, end)) or len(word) < 3 or word.lower() in _COMMON:
                continue
            cued = bool(_CUE.search(text[:start]))
            before = text[:start].rstrip()
            mid_text = bool(before) and before[-1] not in ".!?\n" and word[0].isupper()
            if not (cued or mid_text) or re.search(r"\bthe\s+$", text[:start], re.IGNORECASE):
                continue  # "the Rock", "the Joker": with an article a name is a nickname or a role
            if _beside_a_name(text, start, end):
                continue  # "Bruce Wayne", "Harry Potter": one name the catalog does not credit
            key = self._single(word, cued=cued)
            if key is not None:
                found.append(PersonMention(self._full[key], start, end))
                taken.update(range(start, end))
        return sorted(found, key=lambda m: m.start)

    def _single(self, written: str, *, cued: bool) -> str | None:
        """The person one word names. Written as a name, the best known of its surname's holder and of
        the people whose first name it is or shortens ("Leo" is Leonardo DiCaprio before Melissa Leo); a
        shortened or uncued first name must be a well-known person's, and uncued, that person's own (see
        FIRST_NAME_SHARE). In lower case ("love logan"), only a surname or a whole first name after a cue:
        "like all", "with you" are words."""
        word = written.lower()
        surname = self._last.get(word)
        if not written[:1].isupper() or written.isupper():
            exact = self._firsts.get(word, [None])[0] if cued else None
            return surname or exact
        options = [surname] if surname and (cued or self._weight[surname] >= self._well_known) else []
        holders = [k for first, keys in self._firsts.items() if first.startswith(word) for k in keys]
        if holders and len(word) >= SHORT_FORM:
            best = max(holders, key=self._weight.__getitem__)
            exact = self._firsts.get(word, [best])[0]
            if self._weight[best] < 2 * self._weight[exact]:
                best = exact  # "Vince" is Vince Vaughn's own name before it shortens Vincent's
            known = self._weight[best] >= self._well_known
            share = self._weight[best] / sum(self._weight[k] for k in holders)
            if cued and (known or best.split()[0] == word) or known and share >= FIRST_NAME_SHARE:
                options.append(best)
        return max(options, key=self._weight.__getitem__, default=None)

    def _misspelled(self, key: str) -> str | None:
        """The credited name a typed one misspells ("Jim Carey", "Seth Rogan"): close, with the same
        initials, since a typo seldom hits a name's first letter ("Bruce Wayne" is not Bruce Payne)."""
        first, last = key.split()[0][0], key.split()[-1][0]
        hits = process.extract(key, self._names, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=5)
        return next(
            (n for n, *_ in hits if n[0] == first and last in {w[0] for w in n.split()[1:]}), None
        )  # "Robert DeNiro" is Robert De Niro

    def _shortened(self, first: str, last: str) -> str | None:
        """The best-known person with this surname whose first name the typed one shortens ("Nick Cage",
        "Sam Jackson", "Leo DiCaprio"), or None."""
        if len(first) < SHORT_FORM:
            return None
        matching = [
            k for k in self._surnames.get(last, []) if k.split()[0][:SHORT_FORM] == first[:SHORT_FORM]
        ]
        return matching[0] if matching else None

    @staticmethod
    def _name_like(span: list[tuple[str, int, int]], text: str) -> bool:
        """Two capitalized words ("Will Farrell" too: a common word written as a name), or two uncommon
        words after a cue ("with will ferel"): worth a fuzzy look."""
        words = [w for w, _, _ in span]
        if all(w[:1].isupper() and not w.isupper() for w in words):
            return words[0].lower() not in _JOINING
        return not any(w.lower() in _COMMON for w in words) and bool(_CUE.search(text[: span[0][1]]))


def _beside_a_name(text: str, start: int, end: int) -> bool:
    """Whether a capitalized word stands right before or after this one ("Bruce Wayne"): together they are
    one name, and it is not one the catalog credits."""
    after = re.match(r"(?:['’]s)? +([A-Z][\w'’-]*)", text[end:])
    before = re.search(r"(?<=[^.!?\s] )([A-Z][\w'’-]*) +$", text[:start])  # not a sentence's first word
    return any(m is not None and m.group(1).lower() not in _JOINING for m in (after, before))


def _key(name: str) -> str:
    """A name as matched: lower case, no dots, no generational suffix ("Robert Downey Jr." is typed
    "robert downey jr", "Robert Downey", "RDJ"; "Samuel L. Jackson" as "Samuel L Jackson")."""
    return _SUFFIX.sub("", re.sub(r"\.", "", name.lower()).strip())
