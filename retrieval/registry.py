"""What each candidate source is: its name, its capabilities and how it is built, in one registry.

The wiring builds sources from it, the feature builder names its source columns after it, and code that
treats sources differently asks it a capability, never a class or a name. A new source is one class
plus one entry in `SOURCES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

import numpy as np

from catalog import Business, Title
from retrieval.als import ALSModel
from retrieval.candidates import CandidateSource
from retrieval.ease import EASEModel, EASESource
from retrieval.index import TitleIndex
from retrieval.sources import (
    ALSSource,
    ContentSource,
    GenreSource,
    HistorySource,
    NewSource,
    SimilarSource,
    popular_source,
    trending_source,
)

S = TypeVar("S", bound=CandidateSource)


@dataclass(frozen=True)
class SourceParts:
    """What a source may be built from: the built index and models, the catalog, and source settings."""

    index: TitleIndex
    titles: Mapping[int, Title]
    als: ALSModel
    ease: EASEModel | None = None
    business: Mapping[int, Business] = field(default_factory=dict)  # EASE's region filter reads these
    embed: Callable[[str], np.ndarray] | None = None
    similar_anchors: int = 3

    @property
    def latest_year(self) -> int:
        return max((t.year for t in self.titles.values() if t.year), default=0)


@dataclass(frozen=True)
class SourceKind(Generic[S]):
    """One source's identity and capabilities, and how to build it (None: a part it needs is absent)."""

    name: str  # what its candidates carry as `source`, and its feature columns' `src_<name>`
    build: Callable[[SourceParts], S | None]
    # It proposes titles the profile has seen (its own history): lists of new titles leave those out,
    # and so does offline recall, which asks for titles the profile has not watched.
    proposes_seen: bool = False
    # It queries the title index; one that does not still answers while the index is down.
    needs_index: bool = True

    def among(self, sources: Iterable[CandidateSource]) -> S:
        """This kind's built source in `sources`, found by its name, which a registry keeps unique."""
        sources = list(sources)
        for source in sources:
            if source.name == self.name:
                return cast(S, source)  # the registry built every source of this name with `build`
        raise LookupError(f"no {self.name!r} source among {[s.name for s in sources]}")


@dataclass(frozen=True)
class SourceRegistry:
    """Source kinds in a fixed order: the order sources are queried in and feature columns follow."""

    kinds: tuple[SourceKind[Any], ...]

    def __post_init__(self) -> None:
        names = [k.name for k in self.kinds]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"source names must be unique; repeated: {', '.join(repeated)}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.kinds)

    @property
    def proposing_seen(self) -> frozenset[str]:
        return frozenset(k.name for k in self.kinds if k.proposes_seen)

    @property
    def index_free(self) -> frozenset[str]:
        return frozenset(k.name for k in self.kinds if not k.needs_index)

    def plus(self, kind: SourceKind[Any]) -> SourceRegistry:
        return SourceRegistry((*self.kinds, kind))

    def build(self, parts: SourceParts) -> list[CandidateSource]:
        """Every source its parts allow, in registry order."""
        built: list[CandidateSource] = []
        for kind in self.kinds:
            source = kind.build(parts)
            if source is None:
                continue
            if source.name != kind.name:
                raise ValueError(f"source kind {kind.name!r} built a source named {source.name!r}")
            built.append(source)
        return built


ALS_KIND = SourceKind("als", lambda p: ALSSource(p.index, p.als))
EASE_KIND = SourceKind("ease", lambda p: None if p.ease is None else EASESource(p.ease, p.titles, p.business))
CONTENT_KIND = SourceKind("content", lambda p: ContentSource(p.index, p.titles, p.embed))
SIMILAR_KIND = SourceKind("similar", lambda p: SimilarSource(p.index, p.titles, anchors=p.similar_anchors))
GENRE_KIND = SourceKind("genre", lambda p: GenreSource(p.index, p.titles))
POPULAR_KIND = SourceKind("popular", lambda p: popular_source(p.index))
TRENDING_KIND = SourceKind("trending", lambda p: trending_source(p.index))
NEW_KIND = SourceKind("new", lambda p: NewSource(p.index, latest_year=p.latest_year))
HISTORY_KIND = SourceKind("history", lambda p: HistorySource(p.titles), proposes_seen=True, needs_index=False)

# The served sources. Appending one changes the ranker's feature columns: the next `marquee build`
# trains on them (a model trained without them is refused at load, with that advice).
SOURCES = SourceRegistry(
    (
        ALS_KIND,
        EASE_KIND,
        CONTENT_KIND,
        SIMILAR_KIND,
        GENRE_KIND,
        POPULAR_KIND,
        TRENDING_KIND,
        NEW_KIND,
        HISTORY_KIND,
    )
)
