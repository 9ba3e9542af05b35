"""Shared fixtures for retrieval tests: the real text embedder and the ml-latest-small catalog's vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from catalog import CatalogError, Title, load_dataset
from retrieval.embedder import TextEmbedder, embed_titles
from tests.conftest import real_data_dir


@pytest.fixture(scope="session")
def text_embedder() -> TextEmbedder:
    return TextEmbedder()


@pytest.fixture(scope="session")
def ml_small_titles() -> list[Title]:
    """The real catalog's titles with only name, year and genres: short documents keep the suite
    fast, and they are still real MiniLM vectors of the real catalog, which is what recall depends on."""
    try:
        dataset = load_dataset("ml-latest-small", real_data_dir())
    except CatalogError as error:
        pytest.skip(str(error))
    return [
        Title(t.id, t.name, t.year, t.genres) for t in (dataset.titles[i] for i in sorted(dataset.titles))
    ]


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
