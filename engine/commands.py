"""Helpers every `marquee` command shares: clean one-line errors, data set checks, progress bars.

Other packages (evals, api, assistant) add commands through the `marquee.commands` entry point
group, so the engine never imports the packages above it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from catalog import CatalogError, dataset_names
from engine.config import Settings
from engine.errors import EngineError
from retrieval import IndexUnavailableError

P = ParamSpec("P")
R = TypeVar("R")

EXPECTED_ERRORS = (CatalogError, EngineError, IndexUnavailableError)


def fail(message: str) -> typer.Exit:
    """Print one line on stderr and return the exit (code 2) for the caller to raise."""
    print(f"marquee: error: {message}", file=sys.stderr)
    return typer.Exit(code=2)


def clean_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Known failures end as one line and exit code 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except EXPECTED_ERRORS as exc:
            raise fail(str(exc)) from None

    return wrapper


def checked_dataset(name: str) -> str:
    """A MovieLens data set's name, or one imported into the configured data directory."""
    valid = dataset_names(Settings().data_dir)
    if name not in valid:
        raise fail(f"unknown dataset {name!r}; valid: {', '.join(valid)}")
    return name


def settings() -> Settings:
    s = Settings()
    if not s.data_dir.is_dir():
        raise fail(
            f"data directory {s.data_dir} does not exist; set MARQUEE_DATA_DIR or run "
            "`marquee data fetch ml-latest-small`"
        )
    return s
