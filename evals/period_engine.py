"""A serving engine that knows only a split's training period, for evaluations that go through the facade.

Everything the facade stands on is refitted on the training interactions: ALS, title statistics and
item similarity, the ranker (on an inner split of the training part, as `marquee eval` does), the
popularity and trending counts in a temporary exact Qdrant index, and the data set the engine exposes
(its interactions are the training part, so a user's history ends at the cut). Only the title
embeddings are shared with the build: they come from catalog text, not from anyone's ratings.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from catalog import Dataset, EventStore, derive_business
from catalog.splitting import Split
from engine import Engine, Manifest, Settings, TextEmbedder
from engine.build import catalog_titles, content_vectors, data_now
from engine.progress import Reporter, Silent
from engine.ranking import fit_stage_one, stage_two, train_ranker
from engine.wiring import make_sources
from ranker import ArtworkBandit, RowOrderBandit
from retrieval import CF, CONTENT, ALSModel, EdgeIndex, fill_index, popularity, title_points, trending

PERIOD = "training-period"


@contextmanager
def training_engine(
    settings: Settings,
    dataset: Dataset,
    split: Split,
    *,
    reporter: Reporter | None = None,
) -> Iterator[Engine]:
    """An `Engine` over `split.train` only; its index and state live in a temporary folder."""
    reporter = reporter or Silent()
    embedder = TextEmbedder()  # the engine keeps it: the assistant over it reuses the same model
    content = content_vectors(settings, dataset, reporter, embedder)  # the build's cache of catalog text
    period = replace(dataset, interactions=split.train)
    now = data_now(period)
    config = settings.als
    with reporter.stage("Fitting ALS on the training period"):
        als = ALSModel.fit(split.train, config)
        one = fit_stage_one(settings, period, split.train, content, als=als)
    ranker = train_ranker(settings, period, split.train, content, reporter=reporter, als_config=config)
    with tempfile.TemporaryDirectory(prefix="marquee-chat-eval-") as tmp:
        folder = Path(tmp)
        local = settings.model_copy(update={"state_dir": folder / "state", "artifacts_dir": folder})
        local.dataset_state(dataset.name).mkdir(parents=True, exist_ok=True)
        index = EdgeIndex.create(
            folder / "qdrant", {CONTENT: content.shape[1], CF: config.factors}, exact=True
        )
        points = title_points(
            catalog_titles(dataset),
            content,
            als,
            popularity(split.train),
            trending(split.train, half_life_days=settings.retrieval.trending_half_life_days, now=now or None),
            business=derive_business(dataset.titles, now=now),
        )
        with reporter.stage("Filling a training-period index", total=len(points)) as advance:
            fill_index(index, points, progress=advance)
        sources = make_sources(
            local,
            index,
            als,
            dataset.titles,
            embed=lambda text: embedder.encode([text])[0],
            ease=one.ease,
            business=derive_business(dataset.titles, now=now),
        )
        engine = Engine(
            settings=local,
            dataset=period,
            index=index,
            sources=sources,
            stage2=stage_two(local, period, one, content, ranker),
            manifest=Manifest(
                dataset=dataset.name, data_checksum=dataset.checksum, parameters={"period": PERIOD}
            ),
            artwork=ArtworkBandit.open(),
            row_order=RowOrderBandit.open(),
            store=EventStore(folder / "events.sqlite"),
            embedder=embedder,
        )
        try:
            yield engine
        finally:
            engine.close()
