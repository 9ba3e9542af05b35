"""Joins the optional metadata sources onto MovieLens titles: TMDB 5000, MeLU, keywords, user tags."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from catalog.titles import Title

# Paths relative to the metadata directory (data_dir/metadata).
TMDB_MOVIES = Path("tmdb-5000/tmdb_5000_movies.csv")
TMDB_CREDITS = Path("tmdb-5000/tmdb_5000_credits.csv.gz")
KEYWORDS = Path("the-movies-dataset/keywords.csv")
MELU = Path("melu-ml1m-extrainfo/movies_extrainfos.dat")
SOURCES = (TMDB_MOVIES, TMDB_CREDITS, KEYWORDS, MELU)

# US MPAA ratings, least to most restrictive; anything else (UNRATED, N/A) means unknown.
MATURITY_RATINGS = ("G", "PG", "PG-13", "R", "NC-17")
CAST_SIZE = 5
_MISSING = frozenset({"", "nan", "n/a", "none"})


@dataclass(frozen=True, slots=True)
class _Tmdb:
    overview: str
    tagline: str
    keywords: tuple[str, ...]
    runtime: int | None
    directors: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Melu:
    plot: str
    directors: tuple[str, ...]
    actors: tuple[str, ...]
    maturity: str | None
    poster_url: str | None


def normalize_maturity(value: str | None) -> str | None:
    """'pg13', 'PG-13 ', 'Rated R' -> 'PG-13', 'R'; unknown or unrated -> None."""
    if value is None:
        return None
    key = value.upper().removeprefix("RATED").strip().replace(" ", "").replace("_", "-")
    key = {"PG13": "PG-13", "NC17": "NC-17"}.get(key, key)
    return key if key in MATURITY_RATINGS else None


def metadata_files(metadata_dir: Path) -> list[Path]:
    """The metadata source files present on disk, in a fixed order (for checksums)."""
    return [metadata_dir / p for p in SOURCES if (metadata_dir / p).is_file()]


def enrich(
    titles: Mapping[int, Title],
    *,
    metadata_dir: Path,
    tmdb_ids: Mapping[int, int],
    tags: Mapping[int, tuple[str, ...]],
    movielens_ids: Mapping[int, int] | None = None,
) -> dict[int, Title]:
    """Fill overview, keywords, people, runtime, maturity, poster and tags from whatever is on disk.

    `tmdb_ids` and `tags` are keyed by title id. `movielens_ids` maps title ids to MovieLens ids
    for the MeLU join; None means the title ids already are MovieLens ids (ml-latest-small, ml-1m).
    """
    ml_ids = dict(movielens_ids) if movielens_ids is not None else {tid: tid for tid in titles}
    wanted_tmdb = {int(t) for tid, t in tmdb_ids.items() if tid in titles}
    tmdb = _read_tmdb(metadata_dir, wanted_tmdb)
    extra_keywords = _read_keywords(metadata_dir, wanted_tmdb)
    melu = _read_melu(metadata_dir, {ml_ids[tid] for tid in titles if tid in ml_ids})

    out: dict[int, Title] = {}
    for tid, title in titles.items():
        tmdb_id = tmdb_ids.get(tid)
        tm = tmdb.get(tmdb_id) if tmdb_id is not None else None
        me = melu.get(ml_ids[tid]) if tid in ml_ids else None
        extra = extra_keywords.get(tmdb_id, ()) if tmdb_id is not None else ()
        keywords = _dedupe([*(tm.keywords if tm else ()), *extra])
        out[tid] = replace(
            title,
            overview=(tm.overview if tm else "") or (me.plot if me else "") or title.overview,
            tagline=(tm.tagline if tm else "") or title.tagline,
            keywords=keywords or title.keywords,
            tags=tuple(tags.get(tid, ())) or title.tags,
            directors=(tm.directors if tm else ()) or (me.directors if me else ()) or title.directors,
            cast=(tm.cast if tm else ()) or (me.actors[:CAST_SIZE] if me else ()) or title.cast,
            runtime=(tm.runtime if tm else None) or title.runtime,
            maturity=(me.maturity if me else None) or title.maturity,
            poster_url=(me.poster_url if me else None) or title.poster_url,
        )
    return out


def _read_tmdb(metadata_dir: Path, wanted: set[int]) -> dict[int, _Tmdb]:
    """TMDB 5000 movies (+ credits when present) for the wanted tmdbIds."""
    path = metadata_dir / TMDB_MOVIES
    if not wanted or not path.is_file():
        return {}
    movies = pd.read_csv(path, usecols=["id", "overview", "tagline", "keywords", "runtime"])
    movies = movies[movies["id"].isin(wanted)].drop_duplicates("id")
    people = _read_credits(metadata_dir, wanted)
    out: dict[int, _Tmdb] = {}
    for row in movies.itertuples(index=False):
        runtime = None if pd.isna(row.runtime) or row.runtime <= 0 else int(row.runtime)
        directors, cast = people.get(int(row.id), ((), ()))
        out[int(row.id)] = _Tmdb(
            overview=_text(row.overview),
            tagline=_text(row.tagline),
            keywords=_names(json.loads(row.keywords)) if isinstance(row.keywords, str) else (),
            runtime=runtime,
            directors=directors,
            cast=cast,
        )
    return out


def _read_credits(metadata_dir: Path, wanted: set[int]) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
    """tmdbId -> (directors, top-billed cast); JSON is parsed only for the wanted rows."""
    path = metadata_dir / TMDB_CREDITS
    if not path.is_file():
        return {}
    credits = pd.read_csv(path, usecols=["movie_id", "cast", "crew"])
    credits = credits[credits["movie_id"].isin(wanted)].drop_duplicates("movie_id")
    out = {}
    for movie_id, cast_json, crew_json in credits.itertuples(index=False):
        cast = sorted(json.loads(cast_json), key=lambda c: c.get("order", 0))
        crew = json.loads(crew_json)
        directors = _dedupe(c["name"] for c in crew if c.get("job") == "Director")
        out[int(movie_id)] = (directors, _dedupe(c["name"] for c in cast)[:CAST_SIZE])
    return out


def _read_keywords(metadata_dir: Path, wanted: set[int]) -> dict[int, tuple[str, ...]]:
    """The Movies Dataset keywords.csv: a Python-literal list of {'id', 'name'} per tmdbId."""
    path = metadata_dir / KEYWORDS
    if not wanted or not path.is_file():
        return {}
    frame = pd.read_csv(path, dtype={"id": "int64", "keywords": "string"})
    frame = frame[frame["id"].isin(wanted)].drop_duplicates("id")
    return {
        int(tmdb_id): _names(ast.literal_eval(literal))
        for tmdb_id, literal in frame.itertuples(index=False)
        if isinstance(literal, str) and literal != "[]"
    }


def _read_melu(metadata_dir: Path, wanted: set[int]) -> dict[int, _Melu]:
    """MeLU extra info: 11 '::' fields per CRLF line, UTF-8, 'N/A' or 'nan' for missing."""
    path = metadata_dir / MELU
    if not wanted or not path.is_file():
        return {}
    out: dict[int, _Melu] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("::")
        if len(fields) != 11 or not fields[0].isdigit() or int(fields[0]) not in wanted:
            continue
        movie_id, _title, _year, mpaa, _released, _genres, director, _writers, actors, plot, poster = fields
        out[int(movie_id)] = _Melu(
            plot=_text(plot),
            directors=_split_people(director),
            actors=_split_people(actors),
            maturity=normalize_maturity(_text(mpaa) or None),
            poster_url=_text(poster) or None,
        )
    return out


def _text(value: object) -> str:
    """A clean string, or '' for NaN / 'N/A' / 'nan' placeholders."""
    if not isinstance(value, str):
        return ""
    value = value.strip()
    return "" if value.lower() in _MISSING else value


def _split_people(value: str) -> tuple[str, ...]:
    return _dedupe(p for p in (s.strip() for s in _text(value).split(",")) if p)


def _names(entries: Iterable[Mapping[str, object]]) -> tuple[str, ...]:
    return _dedupe(str(e["name"]) for e in entries if e.get("name"))


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    """First occurrence wins, compared case-insensitively; order is kept."""
    seen: set[str] = set()
    out = []
    for value in values:
        key = value.strip().casefold()
        if key and key not in seen:
            seen.add(key)
            out.append(value.strip())
    return tuple(out)
