"""How real people ask for movies: sentence templates mined from ReDial's train seekers.

The simulated viewer (`evals.simulator`) says its facts through these, so its phrasing is real people's
("I'm looking for a good {genre}", "We just watched {title} and really enjoyed it", "nah, not really my
thing") and not the assistant's own vocabulary. Each template is a real seeker message with one fact cut
out and a slot left in its place; messages whose other words could change the fact's meaning (a
negation around a wish, a second genre) are left out. Only the train fold is mined.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from catalog.redial import Dialogue, Message

MAX_WORDS = 18
# The catalog genres as seekers write them; each pattern takes its noun along ("horror movies").
GENRE_FORMS = (
    r"romantic comed(?:y|ies)|rom-?coms?|comed(?:y|ies)|horror|thrillers?|action|dramas?|romance|romantic|"
    r"sci-?fi|science fiction|animated|animation|documentar(?:y|ies)|westerns?|musicals?|mysteries|mystery|"
    r"fantasy|adventures?|crime|war|scary|suspense|super ?hero"
)
_GENRE = re.compile(rf"\b(?:{GENRE_FORMS})(?:\s+(?:movies?|films?|flicks?|ones?))?\b", re.IGNORECASE)
# A request or a taste stated in the present: not talk about a film already suggested ("I loved that one").
_WISH = re.compile(
    r"\b(looking for|look for|like to (watch|see)|want to (watch|see)|wanting|recommend|suggest|"
    r"suggestions?|in the mood|i like|i love|i enjoy|i prefer|i'?m into|hoping|searching|find me|"
    r"help me find|interested in)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(no|not|never|nothing|nor|but|except|hate|hated|dislike|without|don'?t|doesn'?t|didn'?t|isn'?t|"
    r"wasn'?t|won'?t|can'?t|aren'?t|haven'?t|hasn'?t|neither|other than|than|instead)\b|n't\b",
    re.IGNORECASE,
)
# A genre ruled out: the cue right before it ("not really in the mood for {x}", "anything but {x}").
_AVOID = re.compile(
    r"\b(not (really |much )?(in the mood for|looking for|a (big |huge )?fan of|into)|"
    r"don'?t (like|want|watch)|do not (like|want|watch)|anything but|besides|except( for)?|hate|"
    r"can'?t stand)\s+(any |some |more )?$",
    re.IGNORECASE,
)
_SEEN = re.compile(r"\b(seen|saw|watched)\b", re.IGNORECASE)
_ERA = re.compile(r"\b(?:from|in) the (?:19)?[5-9]0'?s\b", re.IGNORECASE)  # filled "from the 90s"
_PERSON = re.compile(r"\b(?:with|starring)\s+[A-Z][a-z]+(?:\s+[A-Z][a-z'-]+)+\b")  # "with Tom Hanks"
_ABOUT = re.compile(r"\babout\s+[a-z][a-z' -]{2,40}[a-z](?=\s*[.!?]*\s*$)")  # "about time travel", at the end
_REJECT = re.compile(r"^\s*(no|nah|nope|not really|not for me|not my|i'?m not|i am not)\b", re.IGNORECASE)
# Words that turn a "no" into interest ("no, but I'll try it", "nope, sounds good").
_INTERESTED = re.compile(
    r"\b(try|heard|sounds?|good|great|interesting|will|might|maybe|add|check|thanks|thank|yes|love|like|"
    r"have|haven'?t|did|didn'?t|want|wanted|wanting)\b",
    re.IGNORECASE,
)
_QUESTION_TO_THEM = re.compile(r"\b(you|your)\b", re.IGNORECASE)
# Facts besides the slot's would be constraints the simulation does not track: years, names, and words
# that read as a genre, mood or audience ("a funny movie {x}" would ask for a comedy).
_OTHER_FACTS = re.compile(
    r"\d|\b[A-Z][a-z]+\s+[A-Z][a-z]+|(?i:\b(funny|hilarious|comed\w*|scary|creepy|sad|romantic|christmas|"
    r"kids?|family|teens?|children|super ?hero\w*|cartoons?|old|older|new|newer|recent|classic)\b)"
)


@dataclass
class Phrasebook:
    """Templates by kind: genre, era, person, topic, exclude (a slot `{x}`), seen (`{title}`),
    reject (whole messages turning down suggestions)."""

    templates: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def mine(cls, dialogues: Iterable[Dialogue]) -> Phrasebook:
        found: dict[str, dict[str, None]] = {k: {} for k in KINDS}
        for dialogue in dialogues:
            after_suggestion = False
            for message in dialogue.messages:
                text = " ".join(html.unescape(dialogue.rendered(message)).split())
                if not message.seeker:
                    after_suggestion = bool(message.movies())
                    continue
                short = len(text.split()) <= MAX_WORDS
                if not short:
                    continue
                for kind, template in _templates(dialogue, message, text, after_suggestion):
                    if template is not None:
                        found[kind].setdefault(template, None)
                after_suggestion = False
        return cls({k: list(v) for k, v in found.items()})

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.templates.items()}

    def has(self, kind: str) -> bool:
        return bool(self.templates.get(kind))

    def say(self, kind: str, rng: np.random.Generator, **slots: str) -> str:
        """A random template of `kind` with its slot filled; the article fixed to the filler. A genre
        slot takes the word as a modifier (`genre`) and makes its noun forms from it."""
        options = self.templates[kind]
        if "genre" in slots:
            word = slots.pop("genre")
            slots |= {"xa": word, "x": f"{word} movie", "xs": f"{word} movies"}
        text = options[int(rng.integers(len(options)))].format(**slots)
        text = re.sub(r"\b([Aa])n? (?=[aeiouAEIOU])", r"\1n ", text)
        return re.sub(r"\b([Aa])n (?=[^\W\daeiouAEIOU])", r"\1 ", text)


KINDS = ("genre", "era", "person", "topic", "exclude", "seen", "reject")


def _templates(
    dialogue: Dialogue, message: Message, text: str, after_suggestion: bool
) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    movies = message.movies()
    braces = "{" in text or "}" in text
    if braces:
        return out
    if not movies:
        genres = list(_GENRE.finditer(text))
        if len(genres) == 1 and not _QUESTION_TO_THEM.search(text):
            if not _NEGATION.search(text) and _WISH.search(text):
                out.append(("genre", _cut(text, genres[0], _genre_slot(text, genres[0]))))
            elif _AVOID.search(text[: genres[0].start()]):
                out.append(("exclude", _cut(text, genres[0], _genre_slot(text, genres[0]))))
        clean = not _NEGATION.search(text) and not _GENRE.search(text) and not _QUESTION_TO_THEM.search(text)
        for kind, pattern in (("era", _ERA), ("person", _PERSON), ("topic", _ABOUT)):
            hits = list(pattern.finditer(text))
            if clean and len(hits) == 1 and _WISH.search(text):
                out.append((kind, _cut(text, hits[0], "{x}")))
        turned_down = _REJECT.match(text) and not _INTERESTED.search(text) and not _SEEN.search(text)
        turned_down = turned_down and not _GENRE.search(text) and not _OTHER_FACTS.search(text)
        if after_suggestion and turned_down and len(text.split()) <= 10 and "?" not in text:
            out.append(("reject", text))
    elif len(movies) == 1:
        answer = dialogue.answers.get(movies[0])
        name = " ".join(dialogue.names.get(movies[0], "").split())
        said = answer is not None and answer.seen == 1 and name in text and _SEEN.search(text)
        if said and not _NEGATION.search(text) and "?" not in text and not _QUESTION_TO_THEM.search(text):
            out.append(("seen", text.replace(name, "{title}", 1)))
    return out


_FUNCTION_WORDS = frozenset((
    "to", "for", "with", "that", "and", "or", "in", "on", "of", "tonight", "please", "i", "me", "my", "we",
    "this", "which", "who", "from", "about", "at", "as", "today", "now", "lol", "any", "maybe", "too", "also",
    "but", "so",
))  # fmt: skip


def _genre_slot(text: str, match: re.Match[str]) -> str:
    """Which form the genre takes here: `{xa}` before a noun ("{xa} packed films"), `{xs}` plural
    ("I love {xs}"), `{x}` singular ("a good {x}")."""
    said = match.group().lower()
    after = re.match(r"\s+([a-z]+)", text[match.end() :])
    if " " not in said and after and after.group(1) not in _FUNCTION_WORDS:
        return "{xa}"
    return "{xs}" if said.endswith("s") else "{x}"


def _cut(text: str, match: re.Match[str], slot: str) -> str | None:
    """The message with the fact replaced by the slot; None when something else in it states a fact."""
    rest = text[: match.start()] + " " + text[match.end() :]
    extra = _OTHER_FACTS.search(rest) or _GENRE.search(rest)
    return None if extra else text[: match.start()] + slot + text[match.end() :]
