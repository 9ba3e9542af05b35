"""What words mean in this catalog: genre names and their everyday synonyms, and title names."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from assistant.titles import TitleResolver
from engine import Engine

# Everyday words for MovieLens genres; a genre the catalog lacks is dropped when the lexicon is built.
# Only words that name a kind of film: plot words ("detective", "fight", "magic") describe a story.
GENRE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Action": ("action", "action-packed", "explosions"),
    "Adventure": ("adventure", "adventures", "adventurous"),
    "Animation": ("animation", "animated", "cartoon", "cartoons", "anime", "pixar"),
    "Children": ("children", "children's", "childrens", "kids movie", "kid movie", "for kids"),
    "Comedy": ("comedy", "comedies", "funny", "hilarious", "laugh", "humor", "humour", "comic"),
    "Crime": ("crime", "gangster", "gangsters", "mafia"),
    "Documentary": ("documentary", "documentaries", "docs", "true story doc"),
    "Drama": ("drama", "dramas", "dramatic"),
    "Fantasy": ("fantasy", "magical", "fairy tale"),
    "Film-Noir": ("film noir", "film-noir", "noir"),
    "Horror": ("horror", "scary", "spooky", "slasher", "frightening", "terrifying"),
    "Musical": ("musical", "musicals", "singing"),
    "Mystery": ("mystery", "mysteries", "whodunit", "whodunnit"),
    "Romance": ("romance", "romantic", "rom-com", "romcom", "love story", "date night"),
    "Sci-Fi": ("sci-fi", "scifi", "sci fi", "science fiction", "science-fiction", "futuristic"),
    "Thriller": ("thriller", "thrillers", "suspense", "suspenseful", "tense", "gripping"),
    "War": ("war", "wartime"),
    "Western": ("western", "westerns", "cowboy", "cowboys"),
    "IMAX": ("imax",),
}


WELL_KNOWN_QUANTILE = 0.75  # watched more than three titles in four: preferred for generic requests


@dataclass(frozen=True)
class Lexicon:
    genres: tuple[str, ...]  # the catalog's own genre names
    genre_sizes: dict[str, int]  # titles per genre
    synonyms: dict[str, str]  # lower-case phrase -> genre
    titles: TitleResolver
    popularity: dict[int, float]  # times each title was watched
    well_known: float  # the watch count from which a title counts as well known (the popularity prior)

    @classmethod
    def for_engine(cls, engine: Engine) -> Lexicon:
        titles = engine.titles()
        sizes = Counter(g for t in titles.values() for g in t.genres)
        genres = tuple(sorted(sizes))
        synonyms = {g.lower(): g for g in genres}
        for genre, words in GENRE_SYNONYMS.items():
            if genre in genres:
                synonyms |= {w: genre for w in words}
        ids, counts = np.unique(engine.interactions().items, return_counts=True)
        popularity = dict(zip(ids.tolist(), counts.astype(float).tolist(), strict=True))
        resolver = TitleResolver(titles, popularity)
        known = float(np.quantile(counts, WELL_KNOWN_QUANTILE)) if len(counts) else 0.0
        return cls(
            genres=genres,
            genre_sizes=dict(sizes),
            synonyms=synonyms,
            titles=resolver,
            popularity=popularity,
            well_known=known,
        )

    def genre(self, name: str) -> str | None:
        """The catalog genre a word names ("scifi", "Comedies", "film noir"), or None."""
        key = re.sub(r"\s+", " ", name.strip().lower())
        return self.synonyms.get(key) or self.synonyms.get(key.rstrip("s"))

    def genres_in(self, text: str) -> list[tuple[str, int, int]]:
        """(genre, start, end) for every genre word in a sentence, in order, longest phrases first where
        they overlap ("science fiction" before "fiction")."""
        lowered = text.lower()
        found: list[tuple[str, int, int]] = []
        taken: set[int] = set()
        for phrase in sorted(self.synonyms, key=len, reverse=True):
            for m in re.finditer(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", lowered):
                if taken.isdisjoint(range(m.start(), m.end())):
                    found.append((self.synonyms[phrase], m.start(), m.end()))
                    taken.update(range(m.start(), m.end()))
        return sorted(found, key=lambda item: item[1])
