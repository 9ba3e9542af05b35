"""Candidate sources on the known-answer block world, through a real Qdrant Edge index."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from catalog import Constraints, Context, History
from retrieval import (
    CF,
    CONTENT,
    ALSConfig,
    ALSModel,
    ALSSource,
    ContentSource,
    EdgeIndex,
    GenreSource,
    HistorySource,
    NewSource,
    Revisit,
    SimilarSource,
    fill_index,
    popular_source,
    popularity,
    title_points,
    trending,
    trending_source,
)
from tests.retrieval.blocks import ROMANCE, SPACE, block_interactions, block_titles

DIM = 8


def _content_vectors(ids: list[int]) -> np.ndarray:
    """Space titles point one way, romance titles another, with a little seeded noise."""
    rng = np.random.default_rng(3)
    out = []
    for t in ids:
        v = np.zeros(DIM, np.float32)
        v[0 if t in SPACE else 1] = 1.0
        v += rng.normal(scale=0.05, size=DIM).astype(np.float32)
        out.append(v / np.linalg.norm(v))
    return np.stack(out)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EdgeIndex, ALSModel]]:
    inter = block_interactions()
    titles = block_titles()
    ordered = [titles[t] for t in sorted(titles)]
    als = ALSModel.fit(
        inter,
        ALSConfig(
            factors=2, regularization=0.1, alpha=5.0, iterations=30, weighting="binary", half_life_days=None
        ),
    )
    index = EdgeIndex.create(Path(tmp_path_factory.mktemp("edge")) / "qdrant", {CONTENT: DIM, CF: 2})
    points = title_points(
        ordered,
        _content_vectors([t.id for t in ordered]),
        als,
        popularity(inter),
        trending(inter, half_life_days=1.0),
    )
    fill_index(index, points)
    yield index, als
    index.close()


def _context(items: list[int], **kw: object) -> Context:
    n = len(items)
    history = History(
        items=np.array(items, np.int64),
        weights=np.full(n, 5.0, np.float32),
        timestamps=np.arange(n, dtype=np.int64),
        **kw,  # type: ignore[arg-type]
    )
    return Context(profile_id="p", history=history, now=1e9)


def test_als_source_stays_in_the_viewers_block_and_skips_seen(world: tuple[EdgeIndex, ALSModel]) -> None:
    index, als = world
    found = ALSSource(index, als).candidates(context=_context([100, 101]), k=3)
    assert [c.source for c in found] == ["als"] * 3
    assert {c.title_id for c in found} == {102, 103, 104}
    assert all(c.reason for c in found)


def test_content_source_profile_and_free_text(world: tuple[EdgeIndex, ALSModel]) -> None:
    index, _ = world
    source = ContentSource(index, block_titles())
    found = source.candidates(context=_context([200, 201]), k=3)
    assert {c.title_id for c in found} == {202, 203, 204}
    # A free-text query goes through the embed function; here one that means "romance".
    text = ContentSource(index, block_titles(), embed=lambda _q: np.eye(DIM, dtype=np.float32)[1])
    query = Context(profile_id="p", query="a love story")
    hits = text.candidates(context=query, k=5)
    assert {c.title_id for c in hits} == set(ROMANCE)
    assert "a love story" in hits[0].reason


def test_similar_source_names_the_anchor_it_came_from(world: tuple[EdgeIndex, ALSModel]) -> None:
    index, _ = world
    found = SimilarSource(index, block_titles(), anchors=1).candidates(context=_context([203]), k=4)
    assert found and all(c.anchor == 203 for c in found)
    assert all(c.reason == "Because you watched Love Story 203" for c in found)
    assert found[0].title_id in ROMANCE


def test_constraints_and_seen_titles_are_filters(world: tuple[EdgeIndex, ALSModel]) -> None:
    index, _ = world
    context = Context(
        profile_id="p",
        history=History(
            items=np.array([100], np.int64), weights=np.array([5.0], np.float32), timestamps=np.array([0])
        ),
        constraints=Constraints(genres=("Sci-Fi",), exclude_titles=frozenset({101}), year_min=1992),
    )
    for source in (popular_source(index), trending_source(index)):
        ids = {c.title_id for c in source.candidates(context=context, k=10)}
        assert ids == {102, 103, 104}, source.name
    # A favourite genre outside the request's genres must not widen the filter.
    romance = replace(context, history=_context([200, 201]).history)
    assert GenreSource(index, block_titles()).candidates(context=romance, k=10) == []


def test_genre_and_new_sources(world: tuple[EdgeIndex, ALSModel]) -> None:
    index, _ = world
    genre = GenreSource(index, block_titles())
    assert genre.favourite_genres(_context([100, 101])) == ["Sci-Fi"]
    found = genre.candidates(context=_context([100, 101]), k=10)
    assert {c.title_id for c in found} == {102, 103, 104}
    assert found[0].reason == "Popular in Sci-Fi, a genre you watch often"
    assert {c.genre for c in found} == {"Sci-Fi"}  # the genre travels as data, not only in the text
    newest = NewSource(index, latest_year=2004, window_years=1).candidates(context=_context([]), k=10)
    assert {c.title_id for c in newest} == {203, 204}


def test_history_source_continue_watching_and_no_disliked() -> None:
    context = _context([100, 101], in_progress=(104, 200), disliked=frozenset({200}))
    found = HistorySource(block_titles(), rewatch_after_days=0).candidates(context=context, k=10)
    assert [c.reason for c in found][:1] == ["Continue watching"]
    assert [(c.title_id, c.revisit) for c in found] == [
        (104, Revisit.CONTINUE),
        (101, Revisit.REWATCH),
        (100, Revisit.REWATCH),
    ]
    assert 200 not in {c.title_id for c in found}
    assert {c.title_id for c in found} == {104, 100, 101}
