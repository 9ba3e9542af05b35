"""Pick the index backend: Qdrant Edge under the artifacts folder, or a Qdrant server via QDRANT_URL."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from engine.config import Settings
from retrieval import ClientIndex, EdgeIndex, ReconnectingIndex, TitleIndex

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


def _secret(settings: Settings) -> str | None:
    return settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
