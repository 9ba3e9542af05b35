"""The text embedder (real MiniLM) and the per-document vector cache of `embed_titles`."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from catalog import Title
from retrieval.embedder import Progress, TextEmbedder, document_key, embed_titles

SPACE = Title(
    id=1,
    name="Interstellar",
    year=2014,
    genres=("Sci-Fi", "Adventure"),
    overview="Astronauts travel through a wormhole near Saturn in search of a new home planet for humanity.",
)
ROMANCE = Title(
    id=2,
    name="Notting Hill",
    year=1999,
    genres=("Romance", "Comedy"),
    overview="A London bookshop owner falls in love with a famous Hollywood actress.",
)


class CountingEmbedder:
    """A fake model: deterministic unit vectors from each text's hash; records every text it encodes."""

    name = "counting-fake"
    dim = 8

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        texts = list(texts)
        self.calls.append(texts)
        out = np.stack([self.vector(t) for t in texts]) if texts else np.empty((0, self.dim), np.float32)
        if progress is not None and texts:
            progress(len(texts))
        return out

    def vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    @property
    def encoded(self) -> list[str]:
        return [t for call in self.calls for t in call]


def catalog(n: int = 25) -> list[Title]:
    return [Title(id=i, name=f"Film {i}", year=1990 + i, genres=("Drama",)) for i in range(1, n + 1)]


# -- the real model ------------------------------------------------------------------------------------


def test_import_is_cheap() -> None:
    """Importing the module (and the package) must not import torch or sentence-transformers."""
    code = (
        "import sys, retrieval.embedder, retrieval\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.slow
def test_known_answer_space_query(text_embedder: TextEmbedder) -> None:
    query, space, romance = text_embedder.encode(
        ["a science fiction adventure in outer space", SPACE.document(), ROMANCE.document()]
    )
    assert float(query @ space) > float(query @ romance) + 0.1
    love, space, romance = text_embedder.encode(
        ["a romantic comedy about falling in love", SPACE.document(), ROMANCE.document()]
    )
    assert float(love @ romance) > float(love @ space) + 0.1


@pytest.mark.slow
def test_vectors_are_normalized_float32(text_embedder: TextEmbedder) -> None:
    texts = [f"title number {i}" for i in range(70)] + ["", "A" * 5000]  # empty and over-long texts too
    done: list[int] = []
    vectors = text_embedder.encode(texts, batch_size=32, progress=done.append)
    assert vectors.dtype == np.float32 and vectors.shape == (len(texts), TextEmbedder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert done == [32, 32, 8]  # increments, one per batch
    assert text_embedder.encode([]).shape == (0, TextEmbedder.dim)
    # batching does not change the answer
    np.testing.assert_allclose(text_embedder.encode(texts[:5], batch_size=2), vectors[:5], atol=1e-5)


@pytest.mark.slow
def test_embed_titles_with_the_real_model(text_embedder: TextEmbedder, tmp_path: Path) -> None:
    vectors = embed_titles(text_embedder, [SPACE, ROMANCE], tmp_path)
    np.testing.assert_allclose(
        vectors, text_embedder.encode([SPACE.document(), ROMANCE.document()]), atol=1e-5
    )
    assert (tmp_path / f"{TextEmbedder.name}.npz").is_file()


# -- the cache -----------------------------------------------------------------------------------------


def test_cache_hit_does_not_call_the_model(tmp_path: Path) -> None:
    titles = catalog()
    fake = CountingEmbedder()
    first = embed_titles(fake, titles, tmp_path)
    assert fake.encoded == [t.document() for t in titles]
    np.testing.assert_array_equal(first, np.stack([fake.vector(t.document()) for t in titles]))

    again = CountingEmbedder()
    done: list[int] = []
    second = embed_titles(again, titles, tmp_path, progress=done.append)
    assert again.calls == []
    assert sum(done) == len(titles)
    np.testing.assert_array_equal(second, first)
    # any order of the same titles is served from the cache too
    assert np.array_equal(embed_titles(again, titles[::-1], tmp_path), first[::-1]) and again.calls == []


def test_changed_title_reembeds_only_itself(tmp_path: Path) -> None:
    titles = catalog()
    fake = CountingEmbedder()
    before = embed_titles(fake, titles, tmp_path)
    changed = list(titles)
    changed[7] = replace(titles[7], overview="Now with a plot.")
    added = Title(id=99, name="New Film", year=2024, genres=("Comedy",))

    fake = CountingEmbedder()
    done: list[int] = []
    after = embed_titles(fake, [*changed, added], tmp_path, progress=done.append)
    assert fake.encoded == [changed[7].document(), added.document()]
    assert sum(done) == len(titles) + 1
    unchanged = [i for i in range(len(titles)) if i != 7]
    np.testing.assert_array_equal(after[unchanged], before[unchanged])
    np.testing.assert_array_equal(after[7], fake.vector(changed[7].document()))

    with np.load(tmp_path / "counting-fake.npz", allow_pickle=False) as data:  # the old text stays cached
        assert document_key(titles[7].document()) in set(data["keys"].tolist())
        assert data["vectors"].shape == (len(titles) + 2, CountingEmbedder.dim)


def test_equal_documents_embed_once_and_no_cache_dir_works(tmp_path: Path) -> None:
    twin = Title(id=2, name="Film 1", year=1991, genres=("Drama",))
    titles = [catalog(1)[0], twin]
    assert titles[0].document() == twin.document()
    fake = CountingEmbedder()
    vectors = embed_titles(fake, titles, None)
    assert fake.encoded == [twin.document()]
    np.testing.assert_array_equal(vectors[0], vectors[1])
    assert list(tmp_path.iterdir()) == []


def test_unreadable_cache_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "counting-fake.npz").write_bytes(b"not an npz file")
    fake = CountingEmbedder()
    vectors = embed_titles(fake, catalog(3), tmp_path)
    assert len(fake.encoded) == 3
    fake = CountingEmbedder()
    np.testing.assert_array_equal(embed_titles(fake, catalog(3), tmp_path), vectors)
    assert fake.calls == []
