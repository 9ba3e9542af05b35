"""Build pipeline, artifacts, config, the serving facade and the CLI. Imports catalog, retrieval, ranker."""

# Re-exported so the layers above (api, assistant) need no import of catalog, retrieval or ranker.
from catalog import (
    MATURITY_RATINGS,
    REGIONS,
    CatalogError,
    Constraints,
    Context,
    Event,
    EventConflictError,
    EventKind,
    Profile,
    Title,
    UnknownProfileError,
    allowed_maturity,
    new_id,
    normalize_maturity,
)
from catalog.redial import Dialogue, ReDial, load_redial
from catalog.redial import available as redial_available
from engine.artifacts import Manifest, package_version
from engine.build import build
from engine.config import Settings
from engine.errors import (
    ArtifactsMissingError,
    EngineError,
    StaleArtifactsError,
    UnknownTitleError,
    UnknownUserError,
)
from engine.facade import Engine
from engine.results import Recommendation
from engine.search import SearchIntent
from engine.title_edits import TitleEdits
from ranker import VARIANTS, variants_for
from ranker.artwork import render as render_artwork
from ranker.rows import Row, RowItem
from retrieval import IndexUnavailableError, TextEmbedder, redact, redact_logs

__all__ = [
    "MATURITY_RATINGS",
    "REGIONS",
    "VARIANTS",
    "ArtifactsMissingError",
    "Dialogue",
    "CatalogError",
    "Constraints",
    "Context",
    "Engine",
    "EngineError",
    "Event",
    "EventConflictError",
    "EventKind",
    "IndexUnavailableError",
    "Manifest",
    "Profile",
    "ReDial",
    "Recommendation",
    "Row",
    "RowItem",
    "SearchIntent",
    "Settings",
    "StaleArtifactsError",
    "TextEmbedder",
    "Title",
    "TitleEdits",
    "UnknownProfileError",
    "UnknownTitleError",
    "UnknownUserError",
    "allowed_maturity",
    "build",
    "new_id",
    "load_redial",
    "normalize_maturity",
    "package_version",
    "redial_available",
    "redact",
    "redact_logs",
    "render_artwork",
    "variants_for",
]
