"""Stage 1: text embedder, the Qdrant title index, candidate sources and their merge."""

from retrieval.als import ALSConfig, ALSModel
from retrieval.candidates import Candidate, CandidateSource, Revisit
from retrieval.client_index import ClientIndex
from retrieval.ease import EASEConfig, EASEModel, EASESource
from retrieval.edge_index import EdgeIndex
from retrieval.embedder import TextEmbedder, embed_titles
from retrieval.fallback import PopularityFallback
from retrieval.filters import title_filter
from retrieval.fusion import PoolFusion
from retrieval.index import (
    CF,
    CONTENT,
    Hit,
    IndexHeldError,
    IndexUnavailableError,
    TitleFilter,
    TitleIndex,
    TitlePoint,
)
from retrieval.indexing import fill_index, popularity, title_points, trending
from retrieval.itemknn import ItemSimilarity
from retrieval.lexical import LEXICAL, LexicalIndex, words
from retrieval.lookup import lookup
from retrieval.merge import CandidateSet, merge
from retrieval.ranks import count_above
from retrieval.reconnecting import ReconnectingIndex
from retrieval.redact import redact, redact_logs
from retrieval.registry import (
    ALS_KIND,
    CONTENT_KIND,
    EASE_KIND,
    GENRE_KIND,
    HISTORY_KIND,
    NEW_KIND,
    POPULAR_KIND,
    SIMILAR_KIND,
    SOURCES,
    TRENDING_KIND,
    SourceKind,
    SourceParts,
    SourceRegistry,
)
from retrieval.sources import (
    ALSSource,
    ContentSource,
    GenreSource,
    HistorySource,
    NewSource,
    SimilarSource,
    TopBySource,
    popular_source,
    trending_source,
)
from retrieval.userknn import UserNeighbours
from retrieval.vae import VAEConfig, VAEModel

__all__ = [
    "ALS_KIND",
    "CF",
    "CONTENT",
    "CONTENT_KIND",
    "EASE_KIND",
    "GENRE_KIND",
    "HISTORY_KIND",
    "NEW_KIND",
    "POPULAR_KIND",
    "SIMILAR_KIND",
    "SOURCES",
    "TRENDING_KIND",
    "ALSConfig",
    "ALSModel",
    "ALSSource",
    "Candidate",
    "CandidateSet",
    "CandidateSource",
    "ClientIndex",
    "ContentSource",
    "EASEConfig",
    "EASEModel",
    "EASESource",
    "EdgeIndex",
    "GenreSource",
    "HistorySource",
    "Hit",
    "IndexHeldError",
    "IndexUnavailableError",
    "ItemSimilarity",
    "UserNeighbours",
    "VAEConfig",
    "VAEModel",
    "count_above",
    "lookup",
    "LEXICAL",
    "LexicalIndex",
    "NewSource",
    "TopBySource",
    "popular_source",
    "PoolFusion",
    "PopularityFallback",
    "ReconnectingIndex",
    "Revisit",
    "SimilarSource",
    "SourceKind",
    "SourceParts",
    "SourceRegistry",
    "TextEmbedder",
    "TitleFilter",
    "TitleIndex",
    "TitlePoint",
    "trending_source",
    "embed_titles",
    "fill_index",
    "merge",
    "popularity",
    "redact",
    "redact_logs",
    "title_filter",
    "title_points",
    "trending",
    "words",
]
