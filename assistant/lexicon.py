"""What words mean in this catalog: genre names and their everyday synonyms, and title names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.titles import TitleResolver
from engine import Engine

# Everyday words for MovieLens genres; a genre the catalog lacks is dropped when the lexicon is built.
GENRE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Action": ("action", "action-packed", "explosions", "fight", "fighting"),
    "Adventure": ("adventure", "adventures", "adventurous", "quest"),
    "Animation": ("animation", "animated", "cartoon", "cartoons", "anime", "pixar"),
    "Children": ("children", "children's", "kids movie", "kid movie", "for kids"),
    "Comedy": ("comedy", "comedies", "funny", "hilarious", "laugh", "humor", "humour", "comic"),
    "Crime": ("crime", "gangster", "gangsters", "mafia"),
    "Documentary": ("documentary", "documentaries", "docs", "true story doc"),
    "Drama": ("drama", "dramas", "dramatic"),
    "Fantasy": ("fantasy", "magic", "magical", "fairy tale", "wizards", "dragons"),
    "Film-Noir": ("film noir", "film-noir", "noir"),
    "Horror": ("horror", "scary", "spooky", "slasher", "frightening", "terrifying"),
    "Musical": ("musical", "musicals", "singing"),
    "Mystery": ("mystery", "mysteries", "whodunit", "detective"),
    "Romance": ("romance", "romantic", "rom-com", "romcom", "love story", "date night"),
    "Sci-Fi": ("sci-fi", "scifi", "sci fi", "science fiction", "science-fiction", "futuristic"),
    "Thriller": ("thriller", "thrillers", "suspense", "suspenseful", "tense", "gripping"),
    "War": ("war", "wartime", "battle", "soldiers", "military"),
    "Western": ("western", "westerns", "cowboy", "cowboys"),
    "IMAX": ("imax",),
}


@dataclass(frozen=True)
class Lexicon:
    genres: tuple[str, ...]  # the catalog's own genre names
    synonyms: dict[str, str]  # lower-case phrase -> genre
    titles: TitleResolver

    @classmethod
    def for_engine(cls, engine: Engine) -> Lexicon:
        titles = engine.dataset.titles
        genres = tuple(sorted({g for t in titles.values() for g in t.genres}))
        synonyms = {g.lower(): g for g in genres}
        for genre, words in GENRE_SYNONYMS.items():
            if genre in genres:
                synonyms |= {w: genre for w in words}
        resolver = TitleResolver.for_catalog(titles, engine.dataset.interactions.items)
        return cls(genres=genres, synonyms=synonyms, titles=resolver)

    def genre(self, name: str) -> str | None:
        """The catalog genre a word names ("scifi", "Comedies", "film noir"), or None."""
        key = re.sub(r"\s+", " ", name.strip().lower())
        return self.synonyms.get(key) or self.synonyms.get(key.rstrip("s"))

    def genres_in(self, text: str) -> list[tuple[str, int]]:
        """(genre, position) for every genre word in a sentence, in order."""
        lowered = text.lower()
        found: dict[str, int] = {}
        for phrase in sorted(self.synonyms, key=len, reverse=True):
            for m in re.finditer(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", lowered):
                genre = self.synonyms[phrase]
                found.setdefault(genre, m.start())
        return sorted(found.items(), key=lambda item: item[1])
