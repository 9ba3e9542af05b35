"""Build pipeline, artifacts, config, the serving facade and the CLI. Imports catalog, retrieval, ranker."""

from engine.artifacts import Manifest
from engine.build import build
from engine.config import Settings
from engine.errors import (
    ArtifactsMissingError,
    EngineError,
    StaleArtifactsError,
    UnknownTitleError,
    UnknownUserError,
)
from engine.facade import Engine, Recommendation

__all__ = [
    "ArtifactsMissingError",
    "Engine",
    "EngineError",
    "Manifest",
    "Recommendation",
    "Settings",
    "StaleArtifactsError",
    "UnknownTitleError",
    "UnknownUserError",
    "build",
]
