"""The title index: its points, the served backend (Qdrant Edge under the artifacts folder, or a Qdrant
server via QDRANT_URL) and the exact, temporary index of one training period."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from catalog import Business, Dataset, Interactions
from engine.config import Settings
from engine.periods import catalog_titles
from engine.progress import Reporter, Silent
from retrieval import (
    CF,
    CONTENT,
    ALSModel,
    ClientIndex,
    EdgeIndex,
    ReconnectingIndex,
    TitleIndex,
    TitlePoint,
    fill_index,
    popularity,
    title_points,
    trending,
)

EDGE_DIR = "qdrant"


def collection_name(dataset: str) -> str:
    return "marquee_" + dataset.replace("-", "_")


def create_index(settings: Settings, dataset: str, dims: Mapping[str, int]) -> tuple[TitleIndex, Path | None]:
    """A fresh, empty index. For Edge it is built in a staging folder that `publish` swaps in."""
    if settings.qdrant_url:
        client = ClientIndex.connect(settings.qdrant_url, api_key=_secret(settings))
        return ClientIndex.create(client, dims, collection=collection_name(dataset), replace=True), None
    staging = settings.dataset_artifacts(dataset) / (EDGE_DIR + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    return EdgeIndex.create(staging, dims), staging


def publish(settings: Settings, dataset: str, staging: Path | None) -> None:
    """Swap a finished Edge index into place, so a half-built index is never served."""
    if staging is None:
        return
    final = settings.dataset_artifacts(dataset) / EDGE_DIR
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)


def open_index(settings: Settings, dataset: str) -> TitleIndex:
    """The served index. A Qdrant server that is away (at start or later) does not stop serving: it is
    retried in the background while requests are answered from in-memory popularity."""
    if settings.qdrant_url:
        url, key = settings.qdrant_url, _secret(settings)

        def connect() -> TitleIndex:
            client = ClientIndex.connect(url, api_key=key)
            try:
                return ClientIndex.open(client, collection=collection_name(dataset))
            except Exception:
                client.close()
                raise

        return ReconnectingIndex(connect)
    return EdgeIndex.open(settings.dataset_artifacts(dataset) / EDGE_DIR)


def open_replica(settings: Settings, dataset: str, folder: Path) -> TitleIndex:
    """The index for another serving process: a Qdrant server is shared as it is; an Edge shard, which
    one process holds at a time, is copied into `folder` first (serving never writes to it)."""
    if settings.qdrant_url:
        return open_index(settings, dataset)
    copy = folder / EDGE_DIR
    shutil.copytree(settings.dataset_artifacts(dataset) / EDGE_DIR, copy)
    return EdgeIndex.open(copy)


def catalog_points(
    settings: Settings,
    dataset: Dataset,
    interactions: Interactions,
    content: np.ndarray,
    als: ALSModel,
    *,
    trending_now: float | None = None,
    business: Mapping[int, Business] | None = None,
) -> list[TitlePoint]:
    """Every catalog title's point: its vectors, and popularity and trending counted on `interactions`
    (trending as of `trending_now`, default their last). `business` puts regions and maturity in it."""
    half_life = settings.retrieval.trending_half_life_days
    return title_points(
        catalog_titles(dataset),
        content,
        als,
        popularity(interactions),
        trending(interactions, half_life_days=half_life, now=trending_now),
        business=business,
    )


def dims(content: np.ndarray, als: ALSModel) -> dict[str, int]:
    """The index's named vectors and their sizes."""
    return {CONTENT: content.shape[1], CF: als.config.factors}


def period_index(
    folder: Path,
    points: list[TitlePoint],
    vector_dims: Mapping[str, int],
    *,
    reporter: Reporter | None = None,
) -> TitleIndex:
    """A filled index of one period's points in `folder` (which the caller removes). Exact search:
    offline figures and training data must not vary with a multi-threaded HNSW build."""
    index = EdgeIndex.create(folder / EDGE_DIR, vector_dims, exact=True)
    with (reporter or Silent()).stage("Filling a training-period index", total=len(points)) as advance:
        fill_index(index, points, progress=advance)
    return index


def _secret(settings: Settings) -> str | None:
    return settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
