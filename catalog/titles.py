"""The catalog's title record and the text document each title is embedded from."""

from __future__ import annotations

from dataclasses import dataclass


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

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.year})" if self.year else self.name

    @property
    def rich(self) -> bool:
        """True when the title has a plot or overview, not just its name and genres."""
        return bool(self.overview)

    def document(self) -> str:
        """The text the embedder sees: name, year, genres, plot, keywords, tags, people."""
        parts = [self.display_name]
        if self.genres:
            parts.append("Genres: " + ", ".join(self.genres) + ".")
        if self.tagline:
            parts.append(self.tagline)
        if self.overview:
            parts.append(self.overview)
        if self.keywords:
            parts.append("Keywords: " + ", ".join(self.keywords[:20]) + ".")
        if self.tags:
            parts.append("Tags: " + ", ".join(self.tags[:20]) + ".")
        if self.directors:
            parts.append("Directed by " + ", ".join(self.directors[:2]) + ".")
        if self.cast:
            parts.append("Starring " + ", ".join(self.cast[:5]) + ".")
        return " ".join(parts)
