"""Grounding an LLM's reply: every title it names must be a catalog title this viewer may be offered.

A named title that resolves to nothing in the catalog is invented: its line is dropped and counted. A real
title the viewer has seen or turned down is dropped too, and so is one no tool offered that the engine
would not offer (above the profile's maturity limit, outside its region, or outside what this
conversation asked for: genres, era, runtime). What remains becomes the reply's cards, each with the
explanation its tool gave (or the engine's reason for this viewer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.titles import normalize
from assistant.tools import TitleCard, Toolbox

# **Name** (1999), **Name (1999)** or **Name**: how the system prompt asks models to name titles.
_NAMED = re.compile(
    r"\*\*(?P<name>[^*\n]{1,120}?)(?:\s*\((?P<inner>\d{4})\))?\*\*(?:\s*\((?P<year>\d{4})\))?"
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
YEAR_SLACK = 1  # release years differ by a year between sources


@dataclass
class Grounded:
    text: str
    titles: list[TitleCard]
    invented: int
    blocked: int  # real titles named that this viewer has seen or rejected


def ground(text: str, tools: Toolbox) -> Grounded:
    context = tools.context(exclude_shown=False)  # read once: the profile's history is a store query
    excluded = tools.excluded(context)
    offered = {normalize(c.name): c for c in tools.offered.values()}
    cards: dict[int, TitleCard] = {}
    invented = blocked = 0
    lines = []
    for line in text.splitlines():
        keep = line
        for m in list(_NAMED.finditer(line)):
            year = m.group("year") or m.group("inner")
            card = _resolve(m.group("name"), int(year) if year else None, offered, tools)
            if (
                card is not None
                and card.title_id not in excluded
                and (card.title_id in tools.offered or tools.engine.allowed(card.title_id, context))
            ):
                cards.setdefault(card.title_id, card)
                continue
            invented += card is None
            blocked += card is not None
            if _LIST_ITEM.match(line):
                keep = None
                break
            keep = keep.replace(m.group(0), "(a title I can't offer)")
        if keep is not None:
            lines.append(keep)
    return Grounded("\n".join(lines).strip(), list(cards.values()), invented, blocked)


def _resolve(name: str, year: int | None, offered: dict[str, TitleCard], tools: Toolbox) -> TitleCard | None:
    card = offered.get(normalize(name))
    if card is not None and (year is None or card.year is None or abs(card.year - year) <= YEAR_SLACK):
        return card
    title_id = tools.lexicon.titles.resolve(f"{name} {year}" if year else name)
    if title_id is None:
        return None
    title = tools.engine.dataset.titles[title_id]
    if year is not None and title.year is not None and abs(title.year - year) > YEAR_SLACK:
        return None  # a real name with the wrong year is a film that does not exist
    return TitleCard.of(title, tools.explanation(title))
