"""Grounding an LLM's reply: every title it names must be a catalog title this viewer may be offered.

A named title that resolves to nothing in the catalog is invented: it is cut and counted. A real title the
viewer has seen or turned down is cut too, and so is one no tool offered that the engine would not offer
(above the profile's maturity limit, outside its region, or outside what this conversation asked for:
genres, era, runtime). A list item whose title is cut goes whole; elsewhere the name is replaced. What
remains becomes the reply's cards, each with the explanation its tool gave (or the engine's reason).
The same `Grounder` checks a whole reply (`ground`) and a streamed one, title by title (`llm_stream`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.titles import normalize
from assistant.tools import TitleCard, Toolbox

# **Name** (1999), **Name (1999)** or **Name**: how the prompts ask models to name titles.
NAMED = re.compile(r"\*\*(?P<name>[^*\n]{1,120}?)(?:\s*\((?P<inner>\d{4})\))?\*\*(?:\s*\((?P<year>\d{4})\))?")
LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
# A list item naming its title without bold, as small models write them: "1. Airplane! (1980) - ...".
# With a year, the name runs up to it (names hold colons); without, up to a dash or a colon.
_PLAIN_ITEM = r"^\s*(?:[-*•]|\d+[.)])\s+(?P<name>[^*\n(]{1,120}?)(?P<inner>(?!))?\s*"
PLAIN_ITEMS = (
    re.compile(_PLAIN_ITEM + r"\((?P<year>\d{4})\)"),
    re.compile(_PLAIN_ITEM.replace("(]", "(:]") + r"(?P<year>(?!))?(?:(?=[—–-]\s)|(?=:)|$)"),
)
CUT = "(a title I can't offer)"
YEAR_SLACK = 1  # release years differ by a year between sources


def plain_item(line: str, check: Callable[[re.Match[str]], bool]) -> str | None:
    """A list item without a bold title: its title checked and set in bold, or None when it names no
    title that may stay (unchecked, such an item could carry an invented title to the viewer)."""
    match = PLAIN_ITEMS[0].match(line) or PLAIN_ITEMS[1].match(line)
    if match is None or not check(match):
        return None
    return f"{line[: match.start('name')]}**{match.group('name')}**{line[match.end('name') :]}"


@dataclass
class Grounded:
    text: str
    titles: list[TitleCard]
    invented: int
    blocked: int  # real titles named that this viewer has seen or rejected


class Grounder:
    """Checks the titles of one reply against the catalog and the viewer, collecting the cards."""

    def __init__(self, tools: Toolbox) -> None:
        self.tools = tools
        self._context = tools.context(exclude_shown=False)  # read once: the history is a store query
        self._excluded = tools.excluded(self._context)
        self._offered = {normalize(c.name): c for c in tools.offered.values()}
        self.cards: dict[int, TitleCard] = {}
        self.invented = 0
        self.blocked = 0

    def check(self, match: re.Match[str]) -> bool:
        """Whether the title named by a NAMED match may stay; a kept one becomes a card."""
        year = match.group("year") or match.group("inner")
        card = self._resolve(match.group("name"), int(year) if year else None)
        tools = self.tools
        if (
            card is not None
            and card.title_id not in self._excluded
            and (card.title_id in tools.offered or tools.engine.allowed(card.title_id, self._context))
        ):
            self.cards.setdefault(card.title_id, card)
            return True
        self.invented += card is None
        self.blocked += card is not None
        return False

    def line(self, line: str) -> str | None:
        """The line with its cut titles replaced, or None when it is a list item whose title is cut."""
        if LIST_ITEM.match(line) and not NAMED.search(line):
            return plain_item(line, self.check)
        keep = line
        for m in list(NAMED.finditer(line)):
            if self.check(m):
                continue
            if LIST_ITEM.match(line):
                return None
            keep = keep.replace(m.group(0), CUT)
        return keep

    def result(self, text: str) -> Grounded:
        return Grounded(text.strip(), list(self.cards.values()), self.invented, self.blocked)

    def _resolve(self, name: str, year: int | None) -> TitleCard | None:
        card = self._offered.get(normalize(name))
        if card is not None and (year is None or card.year is None or abs(card.year - year) <= YEAR_SLACK):
            return card
        tools = self.tools
        title_id = tools.lexicon.titles.resolve(f"{name} {year}" if year else name)
        if title_id is None:
            return None
        title = tools.engine.titles()[title_id]
        if year is not None and title.year is not None and abs(title.year - year) > YEAR_SLACK:
            return None  # a real name with the wrong year is a film that does not exist
        return TitleCard.of(title, tools.explanation(title))


def ground(text: str, tools: Toolbox) -> Grounded:
    grounder = Grounder(tools)
    lines = [kept for line in text.splitlines() if (kept := grounder.line(line)) is not None]
    return grounder.result("\n".join(lines))
