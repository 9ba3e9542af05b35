"""The engine's errors: each says what went wrong and what to do about it."""

from __future__ import annotations


class EngineError(Exception):
    """Base of errors the CLI and API turn into a clear message (exit 2 / HTTP 4xx)."""


class ArtifactsMissingError(EngineError):
    pass


class StaleArtifactsError(EngineError):
    pass


class UnknownUserError(EngineError):
    pass


class UnknownTitleError(EngineError):
    pass
