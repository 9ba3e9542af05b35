"""The offline policy's reading of one utterance: what the viewer wants, does not want, has seen, and asks.

Every mention (a title, a person, a genre, a mood, a title already shown) is read with its polarity:
wanted, not wanted, liked, disliked, seen, or asked about. Negation and complaints are scoped to their
clause ("no horror, a comedy"; "Jaws was boring"; "is that a slasher??"); rules read what rules read well
(numbers, years, runtimes, ordinals), a small learned reader (`assistant.polarity`, trained on ReDial
seekers' own answers) judges titles named without a cue word, and the text embedder maps what is left to
a vocabulary of moods and catalog tags. Words it cannot place are dropped, never searched for alone.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.lexicon import Lexicon
from assistant.people import PeopleIndex
from assistant.polarity import CLAUSE, CONFIDENT, PLACEHOLDER, PolarityReader, cue_polarity
from assistant.preferences import PreferenceUpdate
from assistant.titles import normalize
from engine import Title

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
TAG_TITLES = 3  # a phrase the catalog uses this often as a tag or keyword is a mood as written
MOOD_SIMILARITY = 0.55  # cosine to the nearest vocabulary entry: below it, a short phrase is chit-chat
DESCRIPTIVE_WORDS = 3  # a phrase this long describes a story ("a shark attacking a beach town"): kept
MAX_READ_CHARS = 1200  # a longer message is read up to here: one turn's work stays bounded
MAX_PHRASES = 8  # mood phrases embedded per message, for the same reason
MAX_COUNT = 10  # "give me 50" is read as the most a reply shows
RECENT_YEARS = 5  # "recent", "newer" with nothing shown: the catalog's last five years
OLDER_YEAR = 1989  # "older films" with nothing shown to be older than
CLASSIC_YEAR = 1979  # "classics", "old westerns"
SHORT_RUNTIME = 110  # minutes: what "not too long" means
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
    "make", "where", "whose", "while", "when", "after", "until", "way", "much", "less", "so", "him",
    "her", "them", "he", "she", "they", "find", "feel", "feeling", "picks", "pick", "any", "have",
    "get", "got", "see", "seen", "saw", "lol", "haha", "thank", "not", "no", "nothing", "don't", "dont",
    "fewer", "little", "lot", "lots", "all", "than", "then", "if", "as", "at", "from", "up", "out",
))  # fmt: skip
_PLOT = re.compile(r"\b(about|where|who|whose|which|while|when|after|until)\b")
_SEEN_CUE = re.compile(r"\b(seen|saw|watched|finished|already (watched|seen))\b[^,.;!?]*$")
_UNSEEN_CUE = re.compile(
    r"\b(haven'?t|have not|never|not|didn'?t|did not|not yet)\s+(yet\s+)?(seen|saw|watched|watch|see)\b"
    r"[^,.;!?]*$"
)
_LIKED_CUE = re.compile(r"\b(loved|liked|enjoyed|love|like|adored)\b")
_SIMILAR_CUE = re.compile(
    r"\b(more like|similar to|in the vein of|same vibe as|kind of like|along the lines of)\s*(the\s+)?$"
)
_EXPLAIN_CUE = re.compile(r"\b(why|how come|tell me (more )?about|what'?s|what is)\b[^,.;!?]*$")
# References to the picks shown: ordinals, pronouns after a cue, and the shown titles' own names.
_ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
    "fifth": 4, "5th": 4, "last": -1,
}  # fmt: skip
_SMALL = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_SMALL |= {"ten": 10}
_ORDINAL_REF = re.compile(
    r"\bthe\s+(first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)(?:\s+(two|three|four|[2-4]))?"
    r"(?:\s+(?:one|ones|film|movie|pick|title|suggestion))?\b"
    r"(?!\s+(?:time|night|year|week|weekend|month|part|half|season|episode|of)\b)"
    r"|\b(first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)\s+(?:one|pick|suggestion|title)\b"
    r"|(?:\bnumber\s*|#)([1-9])\b"
)
_PRONOUNS = r"(that one|this one|those|these|them|both|all of them|all of those|all|it|that|this)"
_PRONOUN_REF = re.compile(
    r"\b(?P<cue>seen|saw|watched|why|more like|similar to|hated|disliked|loved|liked|enjoyed)\s+"
    rf"{_PRONOUNS}\b"
    r"|\balready (seen|watched)\s*(?=[,.;!?]|$)"
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
_KIDS = re.compile(
    r"\b(kids?|children|child|childrens|children's|my (son|daughter|toddler|little boy|little girl)|"
    r"little ones|toddlers?|grandkids|grandchildren)\b"
)
_FAMILY = re.compile(r"\b(family)\b")
_ELDERS = re.compile(
    r"\b(grandma|grandpa|granny|grandmother|grandfather|grandparents|"
    r"my (mom|mum|mother|dad|father|parents))\b"
)
# Ages are not eras: "in her eighties", "a 26 year old".
_AGE = re.compile(
    r"\bin (her|his|their|my|our|your) (early |late |mid)?(\d0'?s|twenties|thirties|forties|fifties|sixties|"
    r"seventies|eighties|nineties)\b|\b\d+\s*(years?|yrs?)[ -]old\b"
)
_DECADE_TOKEN = r"((?:'|19|20)?\d0'?s|fifties|sixties|seventies|eighties|nineties)"
_DECADE_RELATIVE = re.compile(
    r"\b(before|pre-?|older than|earlier than|after|post-?|newer than|later than|since)\s*(the\s+)?"
    rf"{_DECADE_TOKEN}\b"
)
# A preposition that puts an era in a story ("back to the 1950s"), and the words that make it the film's own
# era instead when they head it ("movies in the 90s", "something in the 70s", "made in the 80s").
_STORY_TIME = re.compile(
    r"\b(?:(?:back|forward)\s+)?(?:to|into|in|during|through|throughout)\s+(?:the\s+)?(?:early\s+|late\s+|mid-?\s*)?$"
)
_FILM_WORDS = frozenset((
    "movie", "movies", "film", "films", "flick", "flicks", "one", "ones", "something", "anything", "stuff",
    "made", "released", "produced", "filmed", "shot", "out", "come", "came", "picks", "titles", "classics",
))  # fmt: skip
_DECADE = re.compile(rf"\b{_DECADE_TOKEN}(?=\W|$)")
_DECADE_WORDS = {"fifties": 1950, "sixties": 1960, "seventies": 1970, "eighties": 1980, "nineties": 1990}
_BEFORE = re.compile(r"\b(before|pre-?|older than|earlier than|until|up to)\s*((?:18|19|20)\d\d)\b")
_AFTER = re.compile(r"\b(after|since|from|post-?|newer than|later than)\s*((?:18|19|20)\d\d)\b")
_BETWEEN = re.compile(r"\bbetween\s+((?:18|19|20)\d\d)\s+and\s+((?:18|19|20)\d\d)\b")
# Era words only where they qualify the film: "recently graduated" and "a 26 year old" are story.
_RECENT = re.compile(
    r"\b(recent|latest|modern|current|contemporary)\s+(films?|movies?|ones?|stuff|releases?|titles?)\b"
    r"|\bsomething recent\b"
)
_NEWER = re.compile(r"\b(newer|more recent|more modern|less old)\b")
_OLDER = re.compile(
    r"\b(older|earlier|less recent)\b(?!\s+(brother|sister|son|daughter|kids?|child|actors?|one|people|"
    r"audiences?|than|generation|viewers?)\b)"
)
_CLASSIC = re.compile(  # "old" only where it qualifies the film; the noun stays for the genre reading
    r"\b(classics?|oldies|vintage|golden age|old(?= (films?|movies?|ones?|stuff|classics?|westerns?|"
    r"comed(y|ies)|dramas?|musicals?|horror|black and white)\b))\b"
)
_AMOUNT = r"(\d+(?:\.\d+)?|an?|one|two|three|four)\s*(and a half\s*)?"
_UNIT = r"(hours?|hrs?|h|minutes?|mins?|m)\b(\s+and a half)?"
_RUNTIME_BEFORE = re.compile(
    r"\b(?:under|less than|shorter than|at most|no more than|max(?:imum)?|within|no longer than|below|"
    r"nothing (?:over|longer than|more than|above)|not (?:over|more than|longer than)|up to)\s+"
    + _AMOUNT
    + _UNIT
)
_RUNTIME_AFTER = re.compile(
    r"\b"
    + _AMOUNT
    + _UNIT
    + r"\s*(?:max(?:imum)?|tops|or (?:less|shorter|under)|at (?:the )?most|long at most)"
)
_SHORT = re.compile(r"\b(not too long|not long|not very long|short|shortish|quick|brief)\b")
_NUMBER = {"a": 1, "an": 1} | _SMALL
_COUNT = re.compile(
    r"\b(?:give me|show me|list|top|just|only|suggest|recommend|pick|name)\s+"
    r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)\b(?!\s*(?:hours?|hrs?|minutes?|mins?|years?|more|of|'s|%))"
    r"|\b(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\s+(?:[\w-]+\s+)?(?:movies|films|picks|"
    r"options|titles|suggestions|recommendations|ideas|comedies|dramas|thrillers|westerns|documentaries)\b"
)
_TRENDING = re.compile(
    r"\b(trending|popular (right )?now|what'?s hot|hot right now|everyone('?s| is) watching|most popular|"
    r"what'?s popular|popular these days)\b"
)
_NEW_RELEASES = re.compile(
    r"\b(new releases?|newly released|just (came|come) out|came out recently|latest releases?|in theaters|"
    r"what'?s new|brand new)\b"
)
_SURPRISE = re.compile(
    r"\b(surprise me|something random|random (movie|film|pick)|dealer'?s choice|you (pick|choose|decide)|"
    r"up to you|anything (is fine|goes|works)|whatever you (think|like|want))\b"
)
_AVOID = re.compile(
    r"\b(too|less|fewer|not so|not too|no more|nothing|not|no|without|avoid|skip|hate|don'?t like)\b"
)
# Function words of the languages people most often write in instead: two or more, outnumbering English
# ones, mean the message is not English.
_FOREIGN_WORDS = frozenset((
    "el", "la", "los", "las", "una", "que", "quiero", "película", "pelicula", "películas", "ver", "por",
    "favor", "algo", "para", "je", "voudrais", "veux", "une", "ce", "soir", "quelque", "chose", "drôle",
    "avec", "der", "die", "das", "ich", "möchte", "einen", "eine", "und", "nicht", "etwas", "mit", "il",
    "lo", "gli", "voglio", "vorrei", "qualcosa", "um", "uma", "eu", "quero", "filme", "filmes", "algum",
    "alguma"
))  # fmt: skip
_ENGLISH_WORDS = frozenset((
    "the", "a", "an", "i", "you", "is", "are", "to", "of", "and", "in", "for", "with", "me", "my", "it",
    "this", "that", "what", "something", "movie", "want", "like", "please", "can", "show", "any",
    "some", "watch", "good"
))  # fmt: skip


class Encoder(Protocol):
    """Texts to unit vectors in the catalog's text space (the engine is one)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class Reading:
    """What one utterance says. Title ids are catalog ids; nothing here has touched the profile yet."""

    update: PreferenceUpdate = field(default_factory=PreferenceUpdate)
    reject_last: bool = False
    similar_to: int | None = None
    explain: int | None = None
    wants_rows: bool = False
    count: int | None = None  # "give me 3": exactly this many picks
    intent: str | None = None  # "trending", "new" (releases) or "surprise"
    foreign: bool = False  # not written in English: ask again rather than search the words
    unknown: list[str] = field(default_factory=list)  # names that look like titles but are not in the catalog


@dataclass(frozen=True)
class _Span:
    """A title named or referred to, and how: its ids and the character span in the lowered text."""

    ids: tuple[int, ...]
    start: int
    end: int
    role: str | None = None  # set when the reference itself says it ("seen those", "why that one")


class Understanding:
    def __init__(self, lexicon: Lexicon, titles: dict[int, Title], embedder: Encoder) -> None:
        self.lexicon = lexicon
        self.embedder = embedder
        self._titles = titles
        self._latest_year = max((t.year for t in titles.values() if t.year), default=2020)
        tags = Counter(k.lower() for t in titles.values() for k in (*t.keywords, *t.tags))
        self._vocabulary = list(dict.fromkeys([*MOODS, *(k for k, _ in tags.most_common(VOCABULARY_TAGS))]))
        # Beyond the vocabulary's head ("bittersweet", "whimsical"), a word the catalog tags titles with
        # is evidence in itself: the embedder's nearest word for it would be a guess.
        self._tags = frozenset(k for k, n in tags.items() if n >= TAG_TITLES)
        self._vectors: np.ndarray | None = None
        self.people = PeopleIndex(titles, lexicon.popularity)
        self.polarity = PolarityReader.load()

    def read(self, text: str, *, shown: list[int] | None = None) -> Reading:
        text = text[:MAX_READ_CHARS].encode("utf-8", "replace").decode("utf-8")
        if _foreign(text):
            return Reading(foreign=True)
        shown = list(shown or [])
        reading = Reading()
        lowered = text.lower().replace("’", "'")
        update: dict[str, list] = {
            k: [] for k in ("liked", "disliked", "seen", "genres", "excluded", "people", "excluded_people")
        }
        residual = lowered
        spans = self._references(lowered, shown)
        taken = {i for s in spans for i in range(s.start, s.end)}
        mentions = self.lexicon.titles.mentions(text)
        title_chars = {i for m in mentions for i in range(m.start, m.end)}
        people = self.people.mentions(text, taken=taken, titles=title_chars)
        person_chars = {i for p in people for i in range(p.start, p.end)}
        for mention in mentions:
            if not person_chars.isdisjoint(range(mention.start, mention.end)):
                continue  # "by Stanley Kubrick" names him, not "Stanley Kubrick: A Life in Pictures"
            if taken.isdisjoint(range(mention.start, mention.end)):
                spans.append(_Span(mention.title_ids, mention.start, mention.end))
        for span in sorted(spans, key=lambda s: s.start):
            role = span.role or self._title_role(lowered, span.start, span.end)
            if role == "explain":
                reading.explain = span.ids[0]
            elif role == "seen":
                update["seen"].extend(span.ids)
            elif role == "disliked":
                update["disliked"].extend(span.ids)
            elif role in ("liked", "similar"):
                update["liked"].append(span.ids[0])
                if role == "similar":
                    reading.similar_to = span.ids[0]
            residual = _blank(residual, span.start, span.end)
        for person in people:
            kind = "excluded_people" if cue_polarity(lowered, person.start, person.end) else "people"
            if person.name not in update[kind]:
                update[kind].append(person.name)
            residual = _blank(residual, person.start, person.end)
        years, residual = self._years(residual, lowered, shown)
        for genre, start, end in self.lexicon.genres_in(residual):
            clause = CLAUSE.split(residual[:start])[-1]
            if _PLOT.search(clause):
                continue  # "a film about a war", "where a detective...": the story, kept for the mood query
            negated = cue_polarity(lowered, start, end) or residual[:start].rstrip().endswith("too")
            kind = "excluded" if negated else "genres"
            if genre not in update[kind]:
                update[kind].append(genre)
            residual = _blank(residual, start, end)
        audience, limit, residual = _audience(lowered, residual)
        runtime, residual = _runtime(residual)
        reading.count, residual = _count(residual)
        reading.intent, residual = _intent(residual)
        reading.unknown = [
            m.group(2)
            for m in _NAMED.finditer(text)
            if residual[m.start(2) : m.end(2)].strip() and m.group(2).lower() not in _STOP
        ]
        if m := _REJECT_LAST.search(residual):
            reading.reject_last = True
            residual = _blank(residual, m.start(), m.end())
        if m := _ROWS.search(residual):
            reading.wants_rows = True
            residual = _blank(residual, m.start(), m.end())
        if reading.explain is None and shown and re.search(r"\bwhy\b", residual):
            reading.explain = shown[0]
        if reading.intent == "new" and years[0] is None:
            years = (self._latest_year - 2, years[1])
        moods, avoided = self._moods(residual, lowered)
        reading.update = PreferenceUpdate(
            genres=update["genres"],
            exclude_genres=update["excluded"],
            moods=moods,
            avoid_moods=avoided,
            liked_titles=update["liked"][:10],
            disliked_titles=update["disliked"][:10],
            seen_titles=update["seen"][:20],
            people=update["people"][:10],
            exclude_people=update["excluded_people"][:10],
            year_min=years[0],
            year_max=years[1],
            max_runtime=runtime,
            audience=audience,
            maturity_limit=limit,
        )
        return reading

    def _references(self, lowered: str, shown: list[int]) -> list[_Span]:
        """Titles of the last picks the sentence points at: "the second one", "seen those", "why Heat"."""
        if not shown:
            return []
        spans: list[_Span] = []
        for m in _ORDINAL_REF.finditer(lowered):
            word = m.group(1) or m.group(3)
            if word:
                first = _ORDINALS[word] % len(shown) if _ORDINALS[word] < len(shown) else None
                many = m.group(2)
                if first is None:
                    continue
                size = (_SMALL.get(many) or int(many)) if many else 1
                ids = shown[first : first + size] if word != "last" else shown[-1:]
            else:
                index = int(m.group(4)) - 1
                if index >= len(shown):
                    continue
                ids = shown[index : index + 1]
            spans.append(_Span(tuple(ids), m.start(), m.end()))
        for m in _PRONOUN_REF.finditer(lowered):
            if any(s.start < m.end() and m.start() < s.end for s in spans):
                continue
            cue = m.group("cue") or "seen"
            pronoun = m.group(2) if m.group("cue") else ""
            many = pronoun in ("those", "these", "them", "both") or pronoun.startswith("all")
            role = {"why": "explain", "more like": "similar", "similar to": "similar", "hated": "disliked"}
            role |= {"disliked": "disliked", "loved": "liked", "liked": "liked", "enjoyed": "liked"}
            at = m.start() + len(cue) + 1 if pronoun else m.start()
            ids = tuple(shown) if many else tuple(shown[:1])
            spans.append(_Span(ids, at, m.end(), role.get(cue, "seen")))
        for title_id in shown:
            for m in self._shown_name(title_id).finditer(lowered):
                start, end = m.span("name")
                if not any(s.start < end and start < s.end for s in spans):
                    spans.append(_Span((title_id,), start, end))
        return spans

    def _shown_name(self, title_id: int) -> re.Pattern[str]:
        """A pattern for a shown title's name as people type it: any case, article and subtitle optional.
        A short one-word name ("Up", "Big") counts only right after a cue word ("seen up", "why big")."""
        name = self._titles[title_id].name
        words = normalize(name.split(":")[0] if len(name) > 30 else name).split()
        body = r"[\W_]+".join(re.escape(w) for w in words)
        if len(words) == 1 and len(words[0]) <= 4:
            cue = r"\b(?:seen|saw|watched|why|not|like|liked|loved|hated|and|or) "
            return re.compile(rf"{cue}(?P<name>(the )?{body})\b")
        return re.compile(rf"\b(?P<name>(the )?{body})\b")

    def _title_role(self, lowered: str, start: int, end: int) -> str:
        """How a title named in the sentence is meant: explain, seen, unseen, disliked, similar or liked."""
        before = lowered[:start]
        clause = CLAUSE.split(before)[-1]
        sentence = re.split(r"[.!?;]", before)[-1]
        if _EXPLAIN_CUE.search(clause):
            return "explain"
        if (
            _UNSEEN_CUE.search(clause)
            or re.fullmatch(r"\s*(and |or )?not\s*", clause)
            and _SEEN_CUE.search(sentence)
        ):
            return "unseen"  # "haven't seen X", "seen Heat but not Up"
        if (seen := _SEEN_CUE.search(clause)) and not _LIKED_CUE.search(clause[seen.start() :]):
            return "seen"
        if cue_polarity(lowered, start, end):
            return "disliked"
        if _SIMILAR_CUE.search(clause):
            return "similar"
        if self.polarity is not None and not _LIKED_CUE.search(clause):
            # No cue word either way: the learned reader judges the sentence around the title.
            sentence_span = _sentence_around(lowered, start, end)
            vector = self.embedder.encode([sentence_span])
            if float(self.polarity.disliked_probability(vector)[0]) >= CONFIDENT:
                return "disliked"
        return "liked"

    def _years(self, text: str, lowered: str, shown: list[int]) -> tuple[tuple[int | None, int | None], str]:
        low: int | None = None
        high: int | None = None
        for m in _AGE.finditer(text):
            text = _blank(text, m.start(), m.end())
        if m := _BETWEEN.search(text):
            low, high = sorted((int(m.group(1)), int(m.group(2))))
            text = _blank(text, m.start(), m.end())
        if m := _DECADE_RELATIVE.search(text):
            start = _decade(m.group(3))
            if m.group(1).startswith(("before", "pre", "older", "earlier")):
                high = start - 1
            else:
                low = start if m.group(1) == "since" else start + 10
            text = _blank(text, m.start(), m.end())
        for m in _DECADE.finditer(text):
            if self._story_time(text, m.start()):
                continue  # "travels back to the 1950s": the story's time, left in the description
            start = _decade(m.group(1))
            low, high = start, start + 9
            text = _blank(text, m.start(), m.end())
            break
        if m := _BEFORE.search(text):
            high = int(m.group(2)) - (m.group(1) not in ("until", "up to"))
            text = _blank(text, m.start(), m.end())
        if m := _AFTER.search(text):
            low = int(m.group(2)) + (m.group(1) not in ("from", "since"))  # "after 1970": 1971 on
            text = _blank(text, m.start(), m.end())
        shown_years = [self._titles[t].year for t in shown if self._titles[t].year]
        middle = int(statistics.median(shown_years)) if shown_years else None
        for pattern, newer in ((_RECENT, True), (_NEWER, True), (_OLDER, False), (_CLASSIC, False)):
            m = pattern.search(text)
            if m is None:
                continue
            text = _blank(text, m.start(), m.end())
            if cue_polarity(lowered, m.start(), m.end()):
                continue  # "not fond of modern movies" says what the era is not; "older" says the rest
            if newer:
                relative = pattern is _NEWER and middle is not None
                low = middle + 1 if relative else self._latest_year - RECENT_YEARS
            elif pattern is _OLDER:
                high = middle - 1 if middle is not None else OLDER_YEAR
            else:
                high = CLASSIC_YEAR
        return (low, high), text

    def _story_time(self, text: str, start: int) -> bool:
        """Whether an era is when a described story happens rather than when the film was made: it follows
        a preposition of time ("to the", "in the", "during") whose head is not the film itself ("travels
        back to the 1950s", "set in the 20s"; but "movies in the 90s", "a comedy in the 80s", "made in")."""
        clause = CLAUSE.split(text[:start])[-1]
        if (m := _STORY_TIME.search(clause)) is None:
            return False  # "90s thrillers", "from the 80s", "the 70s?"
        head = clause[: m.start()].split()
        return bool(head) and head[-1] not in _FILM_WORDS and self.lexicon.genre(head[-1]) is None

    def _moods(self, residual: str, lowered: str) -> tuple[list[str], list[str]]:
        """Phrases left over that say something about taste, judged by closeness to the vocabulary: the
        wanted ones, and the words of the ones complained about ("too violent", "less gore")."""
        wanted: list[tuple[str, bool]] = []
        avoided: list[str] = []
        for start, part in _segments(residual):
            negator = next(reversed(list(_AVOID.finditer(part))), None)  # the last one scopes the rest
            if negator is not None or cue_polarity(lowered, start, start + len(part)):
                after = part[negator.end() :] if negator is not None else part
                avoided += [w for w in re.findall(r"[a-z][a-z'-]+", after) if w not in _STOP]
                continue
            topical = bool(_PLOT.search(part))  # "about moses": a topic, however short
            words = [w for w in re.findall(r"[a-z][a-z'-]+", part) if w not in _STOP]
            if words:
                wanted.append((" ".join(words), topical))
        wanted, avoided = wanted[:MAX_PHRASES], avoided[:MAX_PHRASES]
        if not wanted and not avoided:
            return [], []
        vectors = self.embedder.encode([p for p, _ in wanted] + avoided)
        similarity = vectors @ self._vocabulary_vectors().T
        best, nearest = similarity.max(axis=1), similarity.argmax(axis=1)
        moods = []
        for i, (phrase, topical) in enumerate(wanted):
            if topical or len(phrase.split()) >= DESCRIPTIVE_WORDS or phrase in self._tags:
                moods.append(phrase)  # a story described, or the catalog's own tag: searched as written
            elif best[i] >= MOOD_SIMILARITY:
                # The vocabulary's word, not the viewer's: "feel sad" is "sad", and an odd word never
                # reaches a heading or the query by itself.
                moods.append(phrase if phrase in self._vocabulary else self._vocabulary[nearest[i]])
        offset = len(wanted)
        avoid = [w for i, w in enumerate(avoided) if best[offset + i] >= MOOD_SIMILARITY or w in self._tags]
        return list(dict.fromkeys(m for m in moods if m not in avoid)), list(dict.fromkeys(avoid))

    def _vocabulary_vectors(self) -> np.ndarray:
        if self._vectors is None:
            self._vectors = self.embedder.encode(self._vocabulary)
        return self._vectors


def _blank(text: str, start: int, end: int) -> str:
    """Keep positions stable while removing what was understood."""
    return text[:start] + " " * (end - start) + text[end:]


def _segments(text: str) -> list[tuple[int, str]]:
    """(start, text) of each phrase between punctuation and the words that join phrases."""
    out, at = [], 0
    for m in re.finditer(r"[,.;!?()]|\band\b|\bbut\b|\bwith\b|\bor\b", text):
        if text[at : m.start()].strip():
            out.append((at, text[at : m.start()]))
        at = m.end()
    if text[at:].strip():
        out.append((at, text[at:]))
    return out


def _sentence_around(lowered: str, start: int, end: int) -> str:
    """The sentence holding a span, the span replaced by the placeholder the polarity reader learned."""
    left = max(lowered.rfind(c, 0, start) for c in ".!?\n") + 1
    right = min((i for i in (lowered.find(c, end) for c in ".!?\n") if i >= 0), default=len(lowered))
    return (lowered[left:start] + PLACEHOLDER + lowered[end:right]).strip()


def _foreign(text: str) -> bool:
    """Written in another script, or in another language's function words rather than English ones."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(unicodedata.name(c, "").startswith("LATIN") for c in letters)
    if latin / len(letters) < 0.5:
        return True
    words = re.findall(r"[^\W\d_]+", text.lower())
    foreign = sum(w in _FOREIGN_WORDS for w in words)
    return foreign >= 2 and foreign > sum(w in _ENGLISH_WORDS for w in words)


def _audience(lowered: str, residual: str) -> tuple[str | None, str | None, str]:
    """Who is watching, the rating limit that follows, and the text without those words."""
    found: tuple[str | None, str | None] = (None, None)
    for pattern, audience, limit in (
        (_ELDERS, "family", "PG-13"),
        (_FAMILY, "family", "PG"),
        (_KIDS, "kids", "PG"),
    ):
        for m in pattern.finditer(lowered):  # "kids movies" names the Children genre too: read from all
            residual = _blank(residual, m.start(), m.end())
            if not cue_polarity(lowered, m.start(), m.end()):
                found = (audience, limit)
    return found[0], found[1], residual


def _decade(token: str) -> int:
    if token in _DECADE_WORDS:
        return _DECADE_WORDS[token]
    digits = re.sub(r"\D", "", token)
    if len(digits) == 4:
        return int(digits)
    tens = int(digits[0]) * 10
    return (2000 if tens <= 20 else 1900) + tens


def _runtime(text: str) -> tuple[int | None, str]:
    for pattern in (_RUNTIME_BEFORE, _RUNTIME_AFTER):
        if m := pattern.search(text):
            amount = _NUMBER.get(m.group(1)) or float(m.group(1))
            if m.group(2) or m.group(4):  # "and a half", before or after the unit
                amount += 0.5
            minutes = amount * 60 if m.group(3).startswith("h") else amount
            return max(30, min(600, int(minutes))), _blank(text, m.start(), m.end())
    if m := _SHORT.search(text):
        return SHORT_RUNTIME, _blank(text, m.start(), m.end())
    return None, text


def _count(text: str) -> tuple[int | None, str]:
    if m := _COUNT.search(text):
        word = m.group(1) or m.group(2)
        number = _SMALL.get(word) or int(word)
        return max(1, min(MAX_COUNT, number)), _blank(text, m.start(), m.end())
    return None, text


def _intent(text: str) -> tuple[str | None, str]:
    for pattern, intent in ((_TRENDING, "trending"), (_NEW_RELEASES, "new"), (_SURPRISE, "surprise")):
        if m := pattern.search(text):
            return intent, _blank(text, m.start(), m.end())
    return None, text
