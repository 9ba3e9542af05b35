"""The offline policy's reading of one utterance: preference updates and what the viewer asks for.

Rules catch what rules are good at (genre words, negations, runtimes, eras, titles by name, "seen it");
what is left of the sentence is matched by the text embedder against a vocabulary of moods and the
catalog's own tags, so "something gloomy and clever" becomes a mood the content index can search.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from assistant.lexicon import Lexicon
from assistant.preferences import PreferenceUpdate
from engine import TextEmbedder, Title

# Moods people name; the catalog's most used tags and keywords are added to these.
MOODS = (
    "dark", "funny", "dark comedy", "feel-good", "uplifting", "heartwarming", "sad", "tearjerker",
    "thought-provoking", "mind-bending", "twist ending", "quirky", "weird", "surreal", "atmospheric",
    "slow burn", "fast-paced", "violent", "gory", "gritty", "realistic", "romantic", "cozy", "light",
    "lighthearted", "silly", "satire", "witty", "clever", "smart", "epic", "inspiring", "true story",
    "based on a true story", "suspenseful", "creepy", "disturbing", "bleak", "nostalgic", "charming",
    "quiet", "intense", "emotional", "philosophical", "stylish", "beautiful", "visually stunning",
    "coming of age", "revenge", "heist", "time travel", "dystopia", "space", "robots", "superhero",
    "zombies", "vampires", "serial killer", "courtroom", "sports", "music", "friendship", "road trip",
)  # fmt: skip
VOCABULARY_TAGS = 400
MOOD_SIMILARITY = 0.5  # cosine to the nearest vocabulary entry: below it, a short phrase is chit-chat
DESCRIPTIVE_WORDS = 3  # a phrase this long describes a story ("a shark attacking a beach town"): kept
_STOP = frozenset((
    "a", "an", "the", "i", "i'm", "im", "i'd", "id", "me", "my", "we", "us", "our", "you", "your",
    "it", "its", "is", "are", "was", "were", "be", "been", "am", "do", "does", "did", "want", "wanna",
    "would", "like", "love", "something", "some", "anything", "movie", "movies", "film", "films",
    "show", "watch", "watching", "tonight", "today", "please", "recommend", "suggest", "give", "find",
    "looking", "look", "for", "to", "of", "in", "on", "with", "and", "or", "but", "that", "this",
    "those", "these", "there", "here", "what", "which", "who", "can", "could", "should", "maybe",
    "just", "really", "very", "too", "kind", "sort", "type", "bit", "good", "great", "nice", "one",
    "ones", "thing", "stuff", "loved", "liked", "enjoyed", "why", "about", "starring", "directed", "by",
    "featuring", "night", "hmm", "ok", "okay", "yes", "yeah", "sure", "thanks", "how", "also", "more",
    "hi", "hello", "hey", "evening", "morning", "whatever", "again", "now", "else", "other", "mood",
    "i'm", "make", "should", "where", "who", "whose", "which", "while", "when", "after", "until",
))  # fmt: skip
_NEGATION = re.compile(
    r"\b(no|not|without|nothing|never|don'?t|do not|doesn'?t|hate|hates|avoid|skip|except|anything but|"
    r"no more|not into|sick of|tired of|less)\b[^,.;!?]*$"
)
_PLOT = re.compile(r"\b(about|where|who|whose|which|while|when|after|until)\b")
_CLAUSE = re.compile(r"[,.;!?]|\bbut\b|\bthough\b|\balthough\b")
_SEEN_CUE = re.compile(r"\b(seen|saw|watched|finished|already (watched|seen))\b[^,.;!?]*$")
_DISLIKED_CUE = re.compile(
    r"\b(hated|hate|disliked|didn'?t like|did not like|not a fan of|can'?t stand|couldn'?t stand|boring|"
    r"awful|terrible|not|no|nothing like|unlike|except)\b[^,.;!?]*$"
)
_SIMILAR_CUE = re.compile(r"\b(more like|similar to|in the vein of|same vibe as)\s*$")  # "more like X"
_EXPLAIN_CUE = re.compile(r"\b(why|how come|tell me (more )?about|what'?s|what is)\b[^,.;!?]*$")
_SEEN_LAST = re.compile(
    r"\b(i'?ve |i have |already )?(seen|watched|saw) (it|that|this|them|those|these|both|all( of them)?|"
    r"that one|this one|the first one)\b|\balready (seen|watched)\b"
)
_REJECT_LAST = re.compile(
    r"\b(something else|anything else|something different|other (options|ideas|ones|picks)|"
    r"not (that|this|those|these)( ones?)?|nah|nope|no thanks|not really|not interested|"
    r"(don'?t|do not) (like|want) (that|this|those|these|them|any of)|none of (those|these|them)|"
    r"show me more|more options|different ones|try again)\b"
)
# A capitalized name after "seen"/"loved"/"like": a title the viewer means, found or not.
_NAMED = re.compile(
    r"\b(seen|saw|watched|loved|liked|like|enjoyed|hated)\s+([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)"
)
_ROWS = re.compile(r"\b(home ?page|home screen|my rows|top picks|my home)\b")
_KIDS = re.compile(r"\b(kids?|children|my (son|daughter)|little ones|toddlers?|family)\b")
_DECADE = re.compile(r"\b(?:'|19|20)?(\d)0'?s\b")
_DECADE_WORDS = {"fifties": 1950, "sixties": 1960, "seventies": 1970, "eighties": 1980, "nineties": 1990}
_BEFORE = re.compile(r"\b(?:before|pre|older than|until|up to)\s+((?:18|19|20)\d\d)\b")
_AFTER = re.compile(r"\b(?:after|since|from|post|newer than|later than)\s+((?:18|19|20)\d\d)\b")
_BETWEEN = re.compile(r"\bbetween\s+((?:18|19|20)\d\d)\s+and\s+((?:18|19|20)\d\d)\b")
# Era words only where they qualify the film: "recently graduated" and "a 26 year old" are story.
_RECENT = re.compile(
    r"\b(more recent|something recent|recent (films?|movies?|ones?|stuff|releases?)|newer|"
    r"latest (films?|movies?|releases?)|new releases?|modern (films?|movies?))\b"
)
_OLD = re.compile(
    r"\b(classic|classics|oldies|vintage|golden age|something old(er)?|(?<!year )(?<!years )old(er)?"
    r"(?= (films?|movies?|ones?|stuff|classics?|westerns?|comed(y|ies)|dramas?|musicals?|horror|black)\b))\b"
)
_RUNTIME = re.compile(
    r"\b(?:under|less than|shorter than|at most|no more than|max|within|no longer than|below)\s+"
    r"(\d+(?:\.\d+)?|an?|one|two|three)\s*(?:and a half\s*)?(hours?|hrs?|h|minutes?|mins?|m)\b"
    r"(?:\s+and a half)?"
)
_SHORT = re.compile(r"\b(not too long|not long|not very long|short|shortish|quick|brief|under two hours)\b")
_NUMBER = {"a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0}
SHORT_RUNTIME = 110  # minutes: what "not too long" means


@dataclass
class Reading:
    """What one utterance says. Title ids are catalog ids; nothing here has touched the profile yet."""

    update: PreferenceUpdate = field(default_factory=PreferenceUpdate)
    seen_last: str | None = None  # "it" (the first pick shown) or "all"
    reject_last: bool = False
    similar_to: int | None = None
    explain: int | None = None
    wants_rows: bool = False
    moods: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # names that look like titles but are not in the catalog


class Understanding:
    def __init__(self, lexicon: Lexicon, titles: dict[int, Title], embedder: TextEmbedder) -> None:
        self.lexicon = lexicon
        self.embedder = embedder
        self._latest_year = max((t.year for t in titles.values() if t.year), default=2020)
        tags = Counter(k.lower() for t in titles.values() for k in (*t.keywords, *t.tags))
        self._vocabulary = list(dict.fromkeys([*MOODS, *(k for k, _ in tags.most_common(VOCABULARY_TAGS))]))
        self._vectors: np.ndarray | None = None
        people: dict[str, str] = {}
        for t in titles.values():
            for person in (*t.directors, *t.cast[:5]):
                if " " in person:
                    people.setdefault(person.lower(), person)
        self._people = people

    def read(self, text: str, *, shown: list[int] | None = None) -> Reading:
        reading = Reading()
        lowered = text.lower().replace("’", "'")
        update: dict[str, list] = {k: [] for k in ("liked", "disliked", "seen", "genres", "excluded")}
        residual = lowered
        for mention in self.lexicon.titles.mentions(text):
            if lowered[mention.start : mention.end] in self._people:
                continue  # "by Stanley Kubrick" names him, not "Stanley Kubrick: A Life in Pictures"
            before = lowered[: mention.start]
            clause = _CLAUSE.split(before)[-1]
            if _SEEN_CUE.search(clause):
                update["seen"].extend(mention.title_ids)
            elif _EXPLAIN_CUE.search(clause):
                reading.explain = mention.title_id
            elif _DISLIKED_CUE.search(clause):
                update["disliked"].extend(mention.title_ids)
            else:
                update["liked"].append(mention.title_id)
                if _SIMILAR_CUE.search(clause):
                    reading.similar_to = mention.title_id
            residual = _blank(residual, mention.start, mention.end)
        years, residual = self._years(residual)  # before genres: "an old western" keeps its genre
        for genre, start, end in self.lexicon.genres_in(residual):
            clause = _CLAUSE.split(residual[:start])[-1]
            if _PLOT.search(clause):
                continue  # "a film about a war", "where a detective...": the story, kept for the mood query
            kind = "excluded" if _NEGATION.search(clause) else "genres"
            if genre not in update[kind]:
                update[kind].append(genre)
            residual = _blank(residual, start, end)
        runtime, residual = _runtime(residual)
        people = [name for key, name in self._people.items() if key in lowered]
        for name in people:
            at = residual.find(name.lower())
            residual = _blank(residual, at, at + len(name)) if at >= 0 else residual
        reading.unknown = [
            m.group(2)
            for m in _NAMED.finditer(text)
            if residual[m.start(2) : m.end(2)].strip() and m.group(2).lower() not in _STOP
        ]
        if m := _SEEN_LAST.search(residual):
            many = m.group(3) in ("them", "those", "these", "both") or (m.group(3) or "").startswith("all")
            reading.seen_last = "all" if many else "it"
            residual = _blank(residual, m.start(), m.end())
        if m := _REJECT_LAST.search(residual):
            reading.reject_last = True
            residual = _blank(residual, m.start(), m.end())
        if m := _ROWS.search(residual):
            reading.wants_rows = True
            residual = _blank(residual, m.start(), m.end())
        kids = _KIDS.search(lowered) is not None
        residual = _KIDS.sub(lambda m: " " * len(m.group()), residual)
        if reading.explain is None and shown and re.search(r"\bwhy\b", residual):
            reading.explain = shown[0]
        reading.moods = self._moods(residual)
        reading.update = PreferenceUpdate(
            genres=update["genres"],
            exclude_genres=update["excluded"],
            moods=reading.moods,
            liked_titles=update["liked"],
            disliked_titles=update["disliked"],
            seen_titles=update["seen"],
            people=people[:10],
            year_min=years[0],
            year_max=years[1],
            max_runtime=runtime,
            audience="kids" if kids else None,
            maturity_limit="PG" if kids else None,
        )
        return reading

    def _years(self, text: str) -> tuple[tuple[int | None, int | None], str]:
        low: int | None = None
        high: int | None = None
        if m := _BETWEEN.search(text):
            low, high = sorted((int(m.group(1)), int(m.group(2))))
            text = _blank(text, m.start(), m.end())
        if m := _DECADE.search(text):
            start = _decade(m.group(0))
            low, high = start, start + 9
            text = _blank(text, m.start(), m.end())
        for word, start in _DECADE_WORDS.items():
            if word in text:
                low, high = start, start + 9
                text = text.replace(word, " " * len(word))
        if m := _BEFORE.search(text):
            high = int(m.group(1)) - 1
            text = _blank(text, m.start(), m.end())
        if m := _AFTER.search(text):
            low = int(m.group(1)) + (not m.group(0).startswith(("from", "since")))  # "after 1970": 1971 on
            text = _blank(text, m.start(), m.end())
        if m := _RECENT.search(text):
            low = self._latest_year - 5
            text = _blank(text, m.start(), m.end())
        if m := _OLD.search(text):
            high = 1979
            text = _blank(text, m.start(), m.end())
        return (low, high), text

    def _moods(self, residual: str) -> list[str]:
        """Phrases left over that say something about taste, judged by closeness to the vocabulary."""
        phrases = []
        for part in re.split(r"[,.;!?]|\band\b|\bbut\b|\bwith\b|\bor\b", residual):
            if _NEGATION.search(part):  # "less violent" is not a query for violence
                continue
            topical = bool(_PLOT.search(part))  # "about moses": a topic, however short
            words = [w for w in re.findall(r"[a-z][a-z'-]+", part) if w not in _STOP]
            if words:
                phrases.append((" ".join(words), topical))
        if not phrases:
            return []
        vectors = self.embedder.encode([p for p, _ in phrases])
        best = (vectors @ self._vocabulary_vectors().T).max(axis=1)
        return [
            p
            for (p, topical), s in zip(phrases, best, strict=True)
            if topical or s >= MOOD_SIMILARITY or len(p.split()) >= DESCRIPTIVE_WORDS
        ]

    def _vocabulary_vectors(self) -> np.ndarray:
        if self._vectors is None:
            self._vectors = self.embedder.encode(self._vocabulary)
        return self._vectors


def _blank(text: str, start: int, end: int) -> str:
    """Keep positions stable while removing what was understood."""
    return text[:start] + " " * (end - start) + text[end:]


def _decade(token: str) -> int:
    digits = re.sub(r"\D", "", token)
    if len(digits) == 4:
        return int(digits)
    tens = int(digits[0]) * 10
    return (2000 if tens <= 20 else 1900) + tens


def _runtime(text: str) -> tuple[int | None, str]:
    if m := _RUNTIME.search(text):
        amount = _NUMBER.get(m.group(1)) or float(m.group(1))
        if "and a half" in m.group(0):
            amount += 0.5
        minutes = amount * 60 if m.group(2).startswith("h") else amount
        return max(30, min(600, int(minutes))), _blank(text, m.start(), m.end())
    if m := _SHORT.search(text):
        return SHORT_RUNTIME, _blank(text, m.start(), m.end())
    return None, text
