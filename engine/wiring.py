"""Assemble stage-1 sources from built parts; shared by serving and offline evaluation."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from catalog import Business, Title
from engine.config import Settings
from retrieval import (
    ALSModel,
    ALSSource,
    CandidateSource,
    ContentSource,
    EASEModel,
    EASESource,
    GenreSource,
    HistorySource,
    NewSource,
    PopularSource,
    SimilarSource,
    TitleIndex,
    TrendingSource,
)

# Sources that may propose titles the profile has already seen; offline recall leaves them out.
REWATCH_SOURCES = frozenset({"history"})


def make_sources(
    settings: Settings,
    index: TitleIndex,
    als: ALSModel,
    titles: Mapping[int, Title],
    embed: Callable[[str], np.ndarray] | None = None,
    *,
    ease: EASEModel | None = None,
    business: Mapping[int, Business] | None = None,
) -> list[CandidateSource]:
    """Every source; EASE's only with its model (`business` gives its region filter the index's facts)."""
    latest = max((t.year for t in titles.values() if t.year), default=0)
    return [
        ALSSource(index, als),
        *([EASESource(ease, titles, business or {})] if ease is not None else []),
        ContentSource(index, titles, embed),
        SimilarSource(index, titles, anchors=settings.retrieval.similar_anchors),
        GenreSource(index, titles),
        PopularSource(index),
        TrendingSource(index),
        NewSource(index, latest_year=latest),
        HistorySource(titles),
    ]
