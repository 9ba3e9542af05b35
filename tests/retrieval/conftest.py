"""Shared fixtures for retrieval tests: the real text embedder and the ml-latest-small catalog's vectors."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from catalog import Title
from retrieval.embedder import TextEmbedder, embed_titles

REPO_ROOT = Path(__file__).resolve().parents[2]
_YEAR = re.compile(r"^(.*?)\s*\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$")


def data_dir() -> Path:
    """MARQUEE_DATA_DIR, else the shared data folder next to the repository."""
    env = os.environ.get("MARQUEE_DATA_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def movies_csv(name: str = "ml-latest-small") -> Path | None:
    root = data_dir()
    for candidate in (root / "movielens" / name, root / name, root):
        if (candidate / "movies.csv").is_file():
            return candidate / "movies.csv"
    return None


def read_titles(path: Path) -> list[Title]:
    """MovieLens movies.csv -> Titles: "Heat (1995)" splits into name and year; genres split on "|"."""
    import pandas as pd

    frame = pd.read_csv(path, dtype={"movieId": "int64", "title": "string", "genres": "string"})
    titles = []
    for movie_id, raw, genres in frame.itertuples(index=False, name=None):
        raw = str(raw).strip()
        match = _YEAR.match(raw)
        name, year = (match.group(1), int(match.group(2))) if match else (raw, None)
        genre_list = () if genres == "(no genres listed)" else tuple(str(genres).split("|"))
        titles.append(Title(id=int(movie_id), name=name, year=year, genres=genre_list))
    return titles


@pytest.fixture(scope="session")
def text_embedder() -> TextEmbedder:
    return TextEmbedder()


@pytest.fixture(scope="session")
def ml_small_titles() -> list[Title]:
    path = movies_csv()
    if path is None:
        pytest.skip(f"ml-latest-small not found under {data_dir()} (set MARQUEE_DATA_DIR)")
    return read_titles(path)


@pytest.fixture(scope="session")
def embedding_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pytest's cache folder (.pytest_cache, git-ignored), so later runs skip the embedding entirely;
    a session temp folder when the cache plugin is off (-p no:cacheprovider)."""
    cache = getattr(request.config, "cache", None)
    return cache.mkdir("marquee-embeddings") if cache is not None else tmp_path_factory.mktemp("embeddings")


@pytest.fixture(scope="session")
def ml_small_content(
    text_embedder: TextEmbedder, ml_small_titles: list[Title], embedding_cache: Path
) -> np.ndarray:
    """Real MiniLM vectors of every ml-latest-small title: ~30 s to embed when not cached."""
    return embed_titles(text_embedder, ml_small_titles, embedding_cache)
