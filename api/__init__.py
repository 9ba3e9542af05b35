"""FastAPI app: rows, search, similar, feedback, profiles, health, metrics. Imports engine and assistant."""

from api.app import create_app

__all__ = ["create_app"]
