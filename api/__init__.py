"""FastAPI app: rows, search, similar, feedback, profiles, health, metrics. Imports engine and assistant."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.app import create_app


def __getattr__(name: str) -> Any:
    # Lazy: `python -m api.shell` must open its port before the app's heavy imports.
    if name == "create_app":
        from api.app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
