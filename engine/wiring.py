"""Assemble stage-1 sources from built parts; shared by serving and offline evaluation."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from catalog import Business, Title
from engine.config import Settings
from retrieval import (
    SOURCES,
    ALSModel,
    CandidateSource,
    EASEModel,
    SourceParts,
    SourceRegistry,
    TitleIndex,
)


def make_sources(
    settings: Settings,
    index: TitleIndex,
    als: ALSModel,
    titles: Mapping[int, Title],
    embed: Callable[[str], np.ndarray] | None = None,
    *,
    ease: EASEModel | None = None,
    business: Mapping[int, Business] | None = None,
    registry: SourceRegistry = SOURCES,
) -> list[CandidateSource]:
    """Every registered source; EASE's only with its model (`business` gives its region filter the
    index's facts)."""
    parts = SourceParts(
        index=index,
        titles=titles,
        als=als,
        ease=ease,
        business=business or {},
        embed=embed,
        similar_anchors=settings.retrieval.similar_anchors,
    )
    return registry.build(parts)
