"""Progress reporting for long steps: rich bars on a terminal, silence in tests and servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

Advance = Callable[[int], None]


class Reporter(Protocol):
    def stage(self, description: str, total: int | None = None) -> AbstractContextManager[Advance]: ...


class Silent:
    @contextmanager
    def stage(self, description: str, total: int | None = None) -> Iterator[Advance]:
        yield lambda _n: None


class Bars:
    """One bar per stage on stderr, so stdout stays clean for --json."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )

    def __enter__(self) -> Bars:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:
            # A failed run ends with its one-line error only, not half-drawn bars above it.
            self._progress.live.transient = True
        self._progress.stop()

    @contextmanager
    def stage(self, description: str, total: int | None = None) -> Iterator[Advance]:
        task = self._progress.add_task(description, total=total)
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            self._progress.advance(task, n)

        yield advance
        final = total if total is not None else max(done, 1)  # an unsized stage ends as one full unit
        self._progress.update(task, total=final, completed=final)
