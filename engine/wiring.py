"""Assemble stage-1 sources from built parts; shared by serving and offline evaluation."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from catalog import Title
from engine.config import Settings
from retrieval import (
    ALSModel,
    ALSSource,
    CandidateSource,
    ContentSource,
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
) -> list[CandidateSource]:
    latest = max((t.year for t in titles.values() if t.year), default=0)
    return [
        ALSSource(index, als),
        ContentSource(index, titles, embed),
        SimilarSource(index, titles, anchors=settings.retrieval.similar_anchors),
        GenreSource(index, titles),
        PopularSource(index),
        TrendingSource(index),
        NewSource(index, latest_year=latest),
        HistorySource(titles),
    ]
