"""The catalog's title record and the text document each title is embedded from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

_LISTS = ("genres", "keywords", "tags", "directors", "cast")

_ALIAS = re.compile(r"\s*\(([^()]*)\)")


@dataclass(frozen=True, slots=True)
class Title:
    """One movie in the catalog, with whatever metadata the joined sources provide."""

    id: int
    name: str
    year: int | None
    genres: tuple[str, ...]
    overview: str = ""
    tagline: str = ""
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()
    runtime: int | None = None
    maturity: str | None = None
    poster_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Its fields by name, as the stores of operator edits keep a title."""
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Title:
        """A title from `to_json`'s fields (lists back to tuples)."""
        fields: dict[str, Any] = {k: tuple(v) if k in _LISTS else v for k, v in raw.items()}
        return cls(**fields)

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.year})" if self.year else self.name

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the title goes by: as written, without its bracketed parts, and each of those
        ("Seven (a.k.a. Se7en)": also "Seven" and "Se7en"; "Hate (La Haine)": also "La Haine")."""
        aliases = [a.removeprefix("a.k.a.").strip() for a in _ALIAS.findall(self.name)]
        main = _ALIAS.sub("", self.name).strip()
        return tuple(dict.fromkeys(n for n in (self.name, main, *aliases) if n))

    @property
    def rich(self) -> bool:
        """True when the title has a plot or overview, not just its name and genres."""
        return bool(self.overview)

    def document(self) -> str:
        """The text the embedder sees: name, year, genres, plot, keywords, tags, people.

        Kept to ~75 tokens at the median: MiniLM's cost grows with length, and the opening of a plot
        plus a few keywords carry most of what a mood query matches (full texts: 1.4x slower to embed).
        """
        parts = [self.display_name]
        if self.genres:
            parts.append("Genres: " + ", ".join(self.genres) + ".")
        if self.tagline:
            parts.append(self.tagline)
        if self.overview:
            parts.append(_clipped(self.overview, OVERVIEW_CHARS))
        if self.keywords:
            parts.append("Keywords: " + ", ".join(self.keywords[:8]) + ".")
        if self.tags:
            parts.append("Tags: " + ", ".join(self.tags[:5]) + ".")
        if self.directors:
            parts.append("Directed by " + ", ".join(self.directors[:2]) + ".")
        if self.cast:
            parts.append("Starring " + ", ".join(self.cast[:3]) + ".")
        return " ".join(parts)


OVERVIEW_CHARS = 240


def _clipped(text: str, limit: int) -> str:
    """Cut at a word boundary; an ellipsis says there was more."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    return head[: head.rfind(" ")] + "…" if " " in head else head + "…"
