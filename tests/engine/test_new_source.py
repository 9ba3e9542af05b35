"""Adding a candidate source is one class plus one registry entry: nothing else is edited, and its
candidates reach the merged pool, a served pick's provenance and the ranker's feature columns."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from catalog import Context, History
from engine.config import Settings
from engine.wiring import make_sources
from ranker import FeatureBuilder, SourceOrderRanker, TitleStats
from ranker.pipeline import Stage2
from retrieval import (
    CF,
    CONTENT,
    SOURCES,
    ALSConfig,
    ALSModel,
    Candidate,
    EdgeIndex,
    SourceKind,
    TitleIndex,
    fill_index,
    merge,
    popularity,
    title_filter,
    title_points,
    trending,
)
from tests.retrieval.blocks import SPACE, block_interactions, block_titles

PICKS = (204, 203, 104)  # the editors' order


@dataclass
class StaffPicks:
    """The whole of a new source: hand-picked titles in the editors' order, within the request's filter."""

    picks: tuple[int, ...]
    name: str = "staff_picks"

    def candidates(self, *, context: Context, k: int) -> list[Candidate]:
        excluded = title_filter(context).exclude_ids
        kept = [t for t in self.picks if t not in excluded][:k]
        return [Candidate(t, self.name, 1.0, rank, "Picked by our editors") for rank, t in enumerate(kept)]


# Its one registration: in the code base, this entry is appended to `SOURCES` in retrieval/registry.py.
STAFF_PICKS = SourceKind("staff_picks", lambda parts: StaffPicks(PICKS))
REGISTRY = SOURCES.plus(STAFF_PICKS)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TitleIndex, ALSModel]]:
    inter, titles = block_interactions(), block_titles()
    als = ALSModel.fit(inter, ALSConfig(factors=2, regularization=0.1, alpha=5.0, iterations=30))
    ordered = [titles[t] for t in sorted(titles)]
    content = np.eye(4, dtype=np.float32)[[0 if t.id in SPACE else 1 for t in ordered]]
    index = EdgeIndex.create(Path(tmp_path_factory.mktemp("edge")) / "qdrant", {CONTENT: 4, CF: 2})
    fill_index(
        index, title_points(ordered, content, als, popularity(inter), trending(inter, half_life_days=1))
    )
    yield index, als
    index.close()


def _context() -> Context:
    watched = np.array([100, 101, 104], np.int64)  # a space viewer who has seen one of the picks
    history = History(items=watched, weights=np.full(3, 5.0, np.float32), timestamps=np.arange(3))
    return Context(profile_id="p", history=history, now=1e9)


def test_a_registered_source_is_served_merged_and_featured(world: tuple[TitleIndex, ALSModel]) -> None:
    index, als = world
    titles = block_titles()
    sources = make_sources(Settings(), index, als, titles, registry=REGISTRY)
    assert [s.name for s in sources] == [n for n in REGISTRY.names if n != "ease"]  # no EASE model here
    context = _context()
    pool = merge([s.candidates(context=context, k=10) for s in sources])
    staff = {t: c.rank for t, _, provenance in pool for c in provenance if c.source == "staff_picks"}
    assert staff == {204: 0, 203: 1}  # 104 is seen, so the request's filter drops it

    ids = np.array(sorted(titles), np.int64)
    content = np.eye(4, dtype=np.float32)[[0 if t in SPACE else 1 for t in ids.tolist()]]
    stats = TitleStats.from_interactions(block_interactions(), ids, now=1e9)
    features = FeatureBuilder(
        titles=titles,
        stats=stats,
        als=als,
        content_ids=ids,
        content=content,
        genres=("Romance", "Sci-Fi"),
        sources=REGISTRY,
    )
    assert features.names[-3:] == ("src_staff_picks", "src_staff_picks_rank", "n_sources")
    X = features.build(context=context, candidates=pool)
    column = {name: X[:, j] for j, name in enumerate(features.names)}
    position = {int(t): i for i, t in enumerate(pool.ids)}
    assert (
        column["src_staff_picks"][position[204]] == 1.0
        and column["src_staff_picks_rank"][position[204]] == 1.0
    )
    assert (
        column["src_staff_picks_rank"][position[203]] == 2.0
        and column["src_staff_picks"][position[202]] == 0.0
    )
    proposers = {c.source for c in pool.provenance[position[204]]}
    assert "staff_picks" in proposers and column["n_sources"][position[204]] == len(proposers)

    stage2 = Stage2(
        features=features,
        ranker=SourceOrderRanker(names=features.names),
        stats=stats,
        business={},
        content_ids=ids,
        content=content,
    )
    served = stage2.score(context=context, candidates=pool)
    picked = [
        (int(t), c.reason)
        for t, provenance in zip(served.ids, served.provenance, strict=True)
        for c in provenance
        if c.source == "staff_picks"
    ]
    assert sorted(picked) == [(203, "Picked by our editors"), (204, "Picked by our editors")]


def test_the_served_registry_names_the_trained_models_columns_in_their_order() -> None:
    """Reordering or renaming a source changes the ranker's columns: a model trained before is refused."""
    assert SOURCES.names == (
        "als",
        "ease",
        "content",
        "similar",
        "genre",
        "popular",
        "trending",
        "new",
        "history",
    )
    assert SOURCES.proposing_seen == SOURCES.index_free == frozenset({"history"})
