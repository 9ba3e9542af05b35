"""Congruence suites' openers: each call opens another store over one SQLite file or one PostgreSQL
database (as two replicas would), and every store opened is closed after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

import pytest

from catalog.database import Database

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)]


class Closes(Protocol):
    def close(self) -> None: ...


S = TypeVar("S", bound=Closes)


@contextmanager
def opener(
    request: pytest.FixtureRequest, *, sqlite: Callable[[], S], postgresql: Callable[[Database], S]
) -> Iterator[Callable[[], S]]:
    """For a fixture parametrized with BACKENDS: a function opening another store of `request.param`'s."""
    opened: list[S] = []
    if request.param == "sqlite":
        make = sqlite
    else:
        open_database: Callable[[], Database] = request.getfixturevalue("open_database")

        def make() -> S:
            return postgresql(open_database())

    def open_one() -> S:
        opened.append(make())
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()
