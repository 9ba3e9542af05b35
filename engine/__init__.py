"""Build pipeline, artifacts, config, the serving facade and the CLI. Imports catalog, retrieval, ranker.

This module is the engine's whole public face: the layers above (api, assistant, evals, ui) import
`engine` and nothing under it (an import-linter contract in `make test` holds them to it). Its
submodules are internal. An engine is made by `assemble` (engine/assembly.py, the composition root)
and answered through `Engine`'s methods, whose results are typed (`Picks`, `Page`, `Health`).
"""

# Re-exported so the layers above need no import of catalog, retrieval or ranker.
from catalog import (
    MATURITY_RATINGS,
    REGIONS,
    Accounts,
    CatalogError,
    Constraints,
    Context,
    Event,
    EventConflictError,
    EventKind,
    Profile,
    StoreUnavailableError,
    Title,
    UnknownProfileError,
    allowed_maturity,
    new_id,
    normalize_maturity,
)
from catalog.conversations import Conversations, SQLiteConversations
from catalog.redial import Dialogue, ReDial, load_redial
from catalog.redial import available as redial_available
from engine.artifacts import Manifest, package_version
from engine.assembly import assemble, over_state, reloaded
from engine.breaker import CircuitBreaker
from engine.build import build, content_vectors
from engine.commands import checked_dataset, clean_errors, fail
from engine.commands import settings as settings_from_env
from engine.config import ExperimentSettings, LLMSettings, Settings
from engine.errors import (
    ArtifactsMissingError,
    EngineError,
    StaleArtifactsError,
    UnknownTitleError,
    UnknownUserError,
)
from engine.experiments import assign as assign_arm
from engine.facade import Engine
from engine.feedback import changes_history
from engine.heap import freeze_loaded
from engine.progress import Advance, Bars, Reporter, Silent

# For offline evaluation (evals/): stage 1 and 2 fitted on one period, as the build does.
from engine.ranking import (
    candidate_pool,
    fit_now,
    fit_stage_one,
    period_sources,
    right_after,
    source_k,
    stage_two,
    train_ranker,
)
from engine.ranking import histories as period_histories
from engine.ranking import onboarded as onboarded_history
from engine.results import Health, Page, Picks, Recommendation
from engine.search import SearchIntent
from engine.title_edits import TitleEditStore, apply_edits, title_edits
from ranker import VARIANTS, variants_for
from ranker.artwork import render as render_artwork
from ranker.rows import Row, RowItem
from retrieval import IndexUnavailableError, TextEmbedder, redact, redact_logs

__all__ = [
    "Accounts",
    "Advance",
    "Bars",
    "CircuitBreaker",
    "Conversations",
    "ExperimentSettings",
    "Health",
    "LLMSettings",
    "Page",
    "Picks",
    "Reporter",
    "Silent",
    "assemble",
    "assign_arm",
    "candidate_pool",
    "changes_history",
    "checked_dataset",
    "clean_errors",
    "content_vectors",
    "fail",
    "fit_now",
    "fit_stage_one",
    "freeze_loaded",
    "onboarded_history",
    "over_state",
    "period_histories",
    "period_sources",
    "reloaded",
    "right_after",
    "settings_from_env",
    "source_k",
    "stage_two",
    "title_edits",
    "train_ranker",
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
    "StoreUnavailableError",
    "EventKind",
    "IndexUnavailableError",
    "Manifest",
    "Profile",
    "ReDial",
    "Recommendation",
    "Row",
    "RowItem",
    "SQLiteConversations",
    "SearchIntent",
    "Settings",
    "StaleArtifactsError",
    "TextEmbedder",
    "Title",
    "TitleEditStore",
    "UnknownProfileError",
    "UnknownTitleError",
    "UnknownUserError",
    "allowed_maturity",
    "apply_edits",
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
