"""MovieLens loaders: ml-latest-small, ml-1m and ml-100k, each joined with the metadata on disk."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from catalog.dataset import Dataset, files_sha256
from catalog.errors import MissingDataError, UnknownDatasetError
from catalog.imported import IMPORTED_DIR, imported_names, load_imported
from catalog.interactions import Interactions
from catalog.metadata import enrich, metadata_files
from catalog.titles import Title

DATASETS: tuple[str, ...] = ("ml-100k", "ml-1m", "ml-latest-small")

# The files without which a data set cannot load; everything else is optional enrichment.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "ml-100k": ("u.data", "u.item"),
    "ml-1m": ("movies.dat", "ratings_implicit_pairs.csv.gz"),
    "ml-latest-small": ("ratings.csv", "movies.csv"),
}
# u.genre order; index 0 ("unknown") is not a genre, so it is dropped.
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip

_YEAR = re.compile(r"^(?P<name>.*?)\s*\((?P<year>\d{4})(?:[-–](?:\d{4})?)?\)\s*$")
_ALIASES = re.compile(r"^(?P<main>.+?)(?P<aliases>(?: \([^()]*\))*)$")
_ARTICLE = re.compile(
    r"^(?P<rest>.+), (?P<article>The|A|An|L'|Le|La|Les|Il|El|Los|Las|Der|Die|Das|Un|Une)(?P<subtitle>: .+)?$"
)


@dataclass
class _Source:
    """What one MovieLens reader hands to the shared join."""

    titles: dict[int, Title]
    interactions: Interactions
    files: list[Path]
    tmdb_ids: dict[int, int] = field(default_factory=dict)
    tags: dict[int, tuple[str, ...]] = field(default_factory=dict)
    movielens_ids: dict[int, int] | None = None  # None: title ids are MovieLens ids
    stats: dict[str, int] = field(default_factory=dict)


def dataset_names(data_dir: Path) -> list[str]:
    """The MovieLens data sets and those imported under data_dir (`marquee data import`)."""
    return [*DATASETS, *(n for n in imported_names(data_dir) if n not in DATASETS)]


def dataset_dir(name: str, data_dir: Path) -> Path:
    """Where a data set's files are: data_dir/movielens/<name>, data_dir/<name>, or data_dir itself
    (data_dir/imported/<name> for an imported one)."""
    if name in imported_names(data_dir) and name not in DATASETS:
        return Path(data_dir) / IMPORTED_DIR / name
    if name not in DATASETS:
        raise UnknownDatasetError(name, dataset_names(data_dir))
    data_dir = Path(data_dir)
    # The last candidate is what `marquee data fetch` unpacks: the archive's files right in data_dir.
    candidates = (data_dir / "movielens" / name, data_dir / name, data_dir)
    for directory in candidates:
        if all((directory / f).is_file() for f in _REQUIRED[name]):
            return directory
    missing = next(p for p in (candidates[0] / f for f in _REQUIRED[name]) if not p.is_file())
    raise MissingDataError(missing, name)


def load_dataset(name: str, data_dir: Path) -> Dataset:
    """Load one MovieLens data set and join every metadata source found under data_dir/metadata, or a
    data set imported by `marquee data import` as it was imported."""
    directory = dataset_dir(name, data_dir)
    if name not in DATASETS:
        return load_imported(name, data_dir)
    source = _READERS[name](directory, Path(data_dir))
    metadata_dir = Path(data_dir) / "metadata"
    titles = enrich(
        source.titles,
        metadata_dir=metadata_dir,
        tmdb_ids=source.tmdb_ids,
        tags=source.tags,
        movielens_ids=source.movielens_ids,
    )
    return Dataset(
        name=name,
        titles=titles,
        interactions=source.interactions,
        checksum=files_sha256([*source.files, *metadata_files(metadata_dir)]),
        stats=_stats(titles, source),
    )


def parse_title(raw: str) -> tuple[str, int | None]:
    """'Matrix, The (1999)' -> ('The Matrix', 1999); the year is None when the title has none."""
    raw = raw.strip()
    match = _YEAR.match(raw)
    name, year = (match["name"], int(match["year"])) if match else (raw, None)
    return _readable(name), year


def _readable(name: str) -> str:
    """Move MovieLens' trailing articles back to the front, in the name and in each alias."""
    match = _ALIASES.match(name)
    if match is None:
        return name
    aliases = re.findall(r"\(([^()]*)\)", match["aliases"])
    return " ".join([_front_article(match["main"]), *(f"({_front_article(a)})" for a in aliases)])


def _front_article(name: str) -> str:
    prefix = "a.k.a. " if name.startswith("a.k.a. ") else ""
    match = _ARTICLE.match(name.removeprefix(prefix))
    if match is None:
        return name
    article = match["article"]
    space = "" if article.endswith("'") else " "
    return f"{prefix}{article}{space}{match['rest']}{match['subtitle'] or ''}"


# --- ml-latest-small ------------------------------------------------------------------------------


def _read_latest_small(directory: Path, data_dir: Path) -> _Source:
    ratings = pd.read_csv(
        directory / "ratings.csv",
        dtype={"userId": "int64", "movieId": "int64", "rating": "float32", "timestamp": "int64"},
    )
    movies = pd.read_csv(directory / "movies.csv", dtype={"movieId": "int64"}, encoding="utf-8")
    titles = {}
    for movie_id, raw_title, genres in movies.itertuples(index=False):
        name, year = parse_title(raw_title)
        genre_list = () if genres == "(no genres listed)" else tuple(g for g in genres.split("|") if g)
        titles[int(movie_id)] = Title(id=int(movie_id), name=name, year=year, genres=genre_list)
    interactions = Interactions.from_arrays(
        ratings["userId"].to_numpy(),
        ratings["movieId"].to_numpy(),
        ratings["rating"].to_numpy(),
        ratings["timestamp"].to_numpy(),
    )
    extra = _optional(directory, ("links.csv", "tags.csv"))
    return _Source(
        titles=titles,
        interactions=interactions,
        files=[directory / "ratings.csv", directory / "movies.csv", *extra],
        tmdb_ids=_read_links(directory / "links.csv"),
        tags=_read_tags(directory / "tags.csv"),
    )


def _read_links(path: Path) -> dict[int, int]:
    """movieId -> tmdbId; 8 ml-latest-small movies have none."""
    if not path.is_file():
        return {}
    links = pd.read_csv(path, dtype={"movieId": "int64", "imdbId": "string", "tmdbId": "Int64"})
    links = links.dropna(subset=["tmdbId"])
    return dict(zip(links["movieId"].tolist(), links["tmdbId"].astype("int64").tolist(), strict=True))


def _read_tags(path: Path) -> dict[int, tuple[str, ...]]:
    """movieId -> user tags, deduplicated case-insensitively, most frequent first (ties: first seen).

    Each tag is shown in its most common spelling ('pixar' over a lone 'Pixar').
    """
    if not path.is_file():
        return {}
    tags = pd.read_csv(path, dtype={"userId": "int64", "movieId": "int64", "tag": "string"})
    tags = tags.dropna(subset=["tag"])
    tags = tags.assign(tag=tags["tag"].str.strip(), position=np.arange(len(tags)))
    tags = tags[tags["tag"] != ""].assign(key=lambda t: t["tag"].str.casefold())
    spellings = (
        tags.groupby(["movieId", "key", "tag"], sort=False)
        .agg(n=("position", "size"), position=("position", "min"))
        .reset_index()
    )
    spellings = spellings.sort_values(["n", "position"], ascending=[False, True], kind="stable")
    grouped = (
        spellings.groupby(["movieId", "key"], sort=False)
        .agg(n=("n", "sum"), position=("position", "min"), tag=("tag", "first"))
        .reset_index()
        .sort_values(["movieId", "n", "position"], ascending=[True, False, True], kind="stable")
    )
    return {int(m): tuple(g["tag"].tolist()) for m, g in grouped.groupby("movieId", sort=False)}


# --- ml-1m ----------------------------------------------------------------------------------------


def _read_1m(directory: Path, data_dir: Path) -> _Source:
    titles = {}
    for line in (directory / "movies.dat").read_text(encoding="iso-8859-1").splitlines():
        if not line.strip():
            continue
        movie_id, raw_title, genres = line.split("::", 2)
        name, year = parse_title(raw_title)
        titles[int(movie_id)] = Title(
            id=int(movie_id), name=name, year=year, genres=tuple(g for g in genres.split("|") if g)
        )
    # Only (UserID, MovieID) pairs survive in this copy: no rating values, no timestamps.
    pairs = pd.read_csv(directory / "ratings_implicit_pairs.csv.gz", dtype="int64")
    interactions = Interactions.from_arrays(pairs["UserID"].to_numpy(), pairs["MovieID"].to_numpy())
    links_dir = _latest_small_dir(data_dir)
    links_files = _optional(links_dir, ("links.csv", "tags.csv")) if links_dir else []
    # ml-1m MovieIDs are MovieLens ids, so ml-latest-small's links and tags apply where the id exists.
    tmdb_ids = _read_links(links_dir / "links.csv") if links_dir else {}
    tags = _read_tags(links_dir / "tags.csv") if links_dir else {}
    return _Source(
        titles=titles,
        interactions=interactions,
        files=[directory / "movies.dat", directory / "ratings_implicit_pairs.csv.gz", *links_files],
        tmdb_ids={m: t for m, t in tmdb_ids.items() if m in titles},
        tags={m: t for m, t in tags.items() if m in titles},
    )


# --- ml-100k --------------------------------------------------------------------------------------


def _read_100k(directory: Path, data_dir: Path) -> _Source:
    data = pd.read_csv(
        directory / "u.data", sep="\t", header=None, names=["user", "item", "rating", "ts"], dtype="int64"
    )
    items = pd.read_csv(directory / "u.item", sep="|", header=None, encoding="latin-1", dtype={1: "string"})
    flags = items.iloc[:, 5:24].to_numpy(dtype=bool)
    titles = {}
    for row, (item_id, raw_title, released) in enumerate(items.iloc[:, :3].itertuples(index=False)):
        name, year = parse_title(raw_title if isinstance(raw_title, str) else "")
        if year is None and isinstance(released, str) and re.search(r"\d{4}$", released):
            year = int(released[-4:])  # the release date, e.g. 01-Jan-1995
        genres = tuple(g for g, on in zip(ML100K_GENRES, flags[row], strict=True) if on and g != "unknown")
        titles[int(item_id)] = Title(
            id=int(item_id), name=name or f"Item {item_id}", year=year, genres=genres
        )
    interactions = Interactions.from_arrays(
        data["user"].to_numpy(), data["item"].to_numpy(), data["rating"].to_numpy(), data["ts"].to_numpy()
    )
    # ml-100k numbers its items separately: reach MovieLens ids (and through them TMDB, MeLU and
    # user tags) by matching normalized name + year against the MovieLens movie lists on disk.
    movielens_ids, files = _match_movielens(titles, data_dir)
    links_dir = _latest_small_dir(data_dir)
    links = _read_links(links_dir / "links.csv") if links_dir else {}
    tags = _read_tags(links_dir / "tags.csv") if links_dir else {}
    tmdb_ids = {i: links[m] for i, m in movielens_ids.items() if m in links}
    return _Source(
        titles=titles,
        interactions=interactions,
        files=[directory / "u.data", directory / "u.item", *files],
        tmdb_ids=tmdb_ids,
        tags={i: tags[m] for i, m in movielens_ids.items() if m in tags},
        movielens_ids=movielens_ids,
        stats={"movielens_matched": len(movielens_ids), "tmdb_linked": len(tmdb_ids)},
    )


def _match_movielens(titles: Mapping[int, Title], data_dir: Path) -> tuple[dict[int, int], list[Path]]:
    """ml-100k item id -> MovieLens id, by (normalized name, year); ml-latest-small first, then ml-1m."""
    index: dict[tuple[str, int | None], tuple[int, int]] = {}  # key -> (rank of the key kind, movieId)
    files: list[Path] = []
    for name, filename in (("ml-latest-small", "movies.csv"), ("ml-1m", "movies.dat")):
        directory = _existing_dir(name, data_dir)
        if directory is None:
            continue
        files.append(directory / filename)
        for movie_id, title in _movielens_titles(directory / filename):
            for rank, key in enumerate(_match_keys(title, subtitles=True)):
                if rank < index.get(key, (rank + 1, 0))[0]:
                    index[key] = (rank, movie_id)
    matched = {}
    for item_id, title in titles.items():
        found = next((index[k][1] for k in _match_keys(title) if k in index), None)
        if found is not None:
            matched[item_id] = found
    return matched, files


def _movielens_titles(path: Path) -> Iterable[tuple[int, Title]]:
    """(movieId, bare Title) from movies.csv or movies.dat, for matching only."""
    if path.suffix == ".csv":
        frame = pd.read_csv(path, usecols=["movieId", "title"], dtype={"movieId": "int64"})
        rows: Iterable[tuple[int, str]] = frame.itertuples(index=False)
    else:
        lines = path.read_text(encoding="iso-8859-1").splitlines()
        rows = ((int(m), t) for m, t, _ in (line.split("::", 2) for line in lines if line.strip()))
    for movie_id, raw in rows:
        name, year = parse_title(raw)
        yield int(movie_id), Title(id=int(movie_id), name=name, year=year, genres=())


def _match_keys(title: Title, *, subtitles: bool = False) -> list[tuple[str, int | None]]:
    """Keys to try, best first: the full name, the name without its alias in parentheses, and
    (MovieLens side) either half of 'Star Wars: Episode IV - A New Hope', which ml-100k shortens."""
    main = re.sub(r"\s*\(.*\)\s*$", "", title.name)
    names = [title.name, main]
    if subtitles and ":" in main:
        names += [main.split(":", 1)[0], re.split(r": | - ", main)[-1]]
    keys = [(_normalize(n), title.year) for n in names]
    return [k for i, k in enumerate(keys) if k[0] and k not in keys[:i]]


def _normalize(name: str) -> str:
    """Case, accents, punctuation and a leading article do not count when matching names."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    ascii_name = re.sub(r"^(the|a|an) ", "", ascii_name.replace("&", "and"))
    return re.sub(r"[^a-z0-9]", "", ascii_name)


# --- shared ---------------------------------------------------------------------------------------


def _existing_dir(name: str, data_dir: Path) -> Path | None:
    try:
        return dataset_dir(name, data_dir)
    except MissingDataError:
        return None


def _latest_small_dir(data_dir: Path) -> Path | None:
    """ml-latest-small holds the links to TMDB (and user tags) that ml-1m and ml-100k borrow."""
    return _existing_dir("ml-latest-small", data_dir)


def _optional(directory: Path, names: Iterable[str]) -> list[Path]:
    return [directory / n for n in names if (directory / n).is_file()]


def _stats(titles: Mapping[int, Title], source: _Source) -> dict[str, int]:
    values = list(titles.values())
    interactions = source.interactions
    return {
        "titles": len(values),
        "rich_text": sum(t.rich for t in values),
        "with_keywords": sum(bool(t.keywords) for t in values),
        "with_tags": sum(bool(t.tags) for t in values),
        "with_people": sum(bool(t.directors or t.cast) for t in values),
        "with_runtime": sum(t.runtime is not None for t in values),
        "with_maturity": sum(t.maturity is not None for t in values),
        "with_poster": sum(t.poster_url is not None for t in values),
        "tmdb_linked": len(source.tmdb_ids),
        "users": len(np.unique(interactions.users)),
        "interactions": len(interactions),
        "rated_titles": len(np.unique(interactions.items)),
        **source.stats,
    }


_READERS: dict[str, Callable[[Path, Path], _Source]] = {
    "ml-100k": _read_100k,
    "ml-1m": _read_1m,
    "ml-latest-small": _read_latest_small,
}
