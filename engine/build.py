"""The batch build: load data, embed titles, fit ALS, fill Qdrant, write artifacts and a manifest.

Serving only ever loads what this writes; nothing trains on a request path.
"""

from __future__ import annotations

import json
import shutil
import time

import numpy as np

from catalog import Dataset, derive_business, load_dataset
from catalog.shilling import defend, detect
from engine.artifacts import Manifest, file_sha256
from engine.config import Settings
from engine.indexes import catalog_points, create_index, dims, publish
from engine.periods import catalog_titles, data_now
from engine.progress import Reporter, Silent
from engine.ranking import (
    EASE_FILE,
    FUSION_FILE,
    NEIGHBOURS_FILE,
    RANKER_DIR,
    SIMILARITY_FILE,
    STATS_FILE,
    VAE_FILE,
    train_ranker,
)
from engine.title_edits import apply_edits, title_edits
from ranker import TitleStats
from retrieval import (
    ALSModel,
    EASEModel,
    ItemSimilarity,
    TextEmbedder,
    UserNeighbours,
    VAEModel,
    embed_titles,
    fill_index,
)

ALS_FILE = "als.npz"
SHILLING_FILE = "shilling.json"  # the operator's report: accounts flagged as fake, and why
EMBEDDINGS_DIR = "embeddings"


def content_vectors(
    settings: Settings, dataset: Dataset, reporter: Reporter, embedder: TextEmbedder | None = None
) -> np.ndarray:
    titles = catalog_titles(dataset)
    cache = settings.dataset_artifacts(dataset.name) / EMBEDDINGS_DIR
    with reporter.stage("Embedding titles", total=len(titles)) as advance:
        return embed_titles(embedder or TextEmbedder(), titles, cache, progress=advance)


def build(settings: Settings, dataset_name: str, reporter: Reporter | None = None) -> Manifest:
    reporter = reporter or Silent()
    started = time.perf_counter()
    out = settings.dataset_artifacts(dataset_name)
    out.mkdir(parents=True, exist_ok=True)
    with reporter.stage(f"Loading {dataset_name}"):
        dataset = load_dataset(dataset_name, settings.data_dir)
        # Titles an operator added or removed while serving (POST/DELETE /v1/titles) are part of the catalog.
        edits = title_edits(settings, dataset_name)
        try:
            dataset = apply_edits(dataset, *edits.read())
        finally:
            edits.close()
    titles = catalog_titles(dataset)
    content = content_vectors(settings, dataset, reporter)

    with reporter.stage("Checking for shilling"):
        report = detect(dataset.interactions)
        (out / SHILLING_FILE).write_text(json.dumps(report.as_dict(), indent=1) + "\n")
    # Flagged accounts' interactions count for nothing in trending, popularity and every trained model;
    # the report lists them, so an operator can clear an account by turning the defence off and rebuilding.
    interactions = defend(dataset.interactions, report) if settings.shilling_defence else dataset.interactions

    config = settings.als
    with reporter.stage("Fitting ALS"):
        als = ALSModel.fit(interactions, config)
        als.save(out / ALS_FILE)

    business = derive_business(dataset.titles, now=data_now(dataset))
    points = catalog_points(settings, dataset, interactions, content, als, business=business)
    index, staging = create_index(settings, dataset_name, dims(content, als))
    with reporter.stage("Filling Qdrant", total=len(points)) as advance:
        fill_index(index, points, progress=advance)
        index.close()
    publish(settings, dataset_name, staging)

    TitleStats.from_interactions(
        interactions, np.array([t.id for t in titles], np.int64), now=data_now(dataset)
    ).save(out / STATS_FILE)
    ItemSimilarity.fit(interactions).save(out / SIMILARITY_FILE)
    UserNeighbours.fit(interactions).save(out / NEIGHBOURS_FILE)
    with reporter.stage("Fitting EASE"):
        EASEModel.fit(interactions, settings.retrieval.ease).save(out / EASE_FILE)
    with reporter.stage("Fitting the VAE"):
        VAEModel.fit(interactions, settings.retrieval.vae).save(out / VAE_FILE)
    trained = train_ranker(settings, dataset, interactions, content, reporter=reporter)
    ranker = trained.ranker
    # A model left by an earlier build (the short-profile one) must not load beside this one.
    shutil.rmtree(out / RANKER_DIR, ignore_errors=True)
    ranker.save(out / RANKER_DIR)
    trained.fusion.save(out / FUSION_FILE)

    manifest = Manifest(
        dataset=dataset_name,
        data_checksum=dataset.checksum,
        parameters={
            "als": config.model_dump(),
            "retrieval": settings.retrieval.model_dump(),
            "pool": {"candidates": settings.ranker.candidates, "fusion": FUSION_FILE},
            "index": "qdrant-server" if settings.qdrant_url else "qdrant-edge",
            "ranker": {"objective": ranker.config.objective, **ranker.config.model_dump()},
        },
        stats={
            **dataset.stats,
            "build_seconds": round(time.perf_counter() - started, 1),
            "shilling_flagged_accounts": len(report.flags),
            "shilling_defence": settings.shilling_defence,
        },
        files={
            name: file_sha256(out / name)
            for name in (
                ALS_FILE,
                EASE_FILE,
                STATS_FILE,
                SIMILARITY_FILE,
                NEIGHBOURS_FILE,
                VAE_FILE,
                FUSION_FILE,
                *(f"{RANKER_DIR}/{name}" for name in ranker.files()),
            )
        },
        metrics={"ranker_validation": ranker.metrics},
    )
    manifest.write(out)
    return manifest
