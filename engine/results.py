"""What the facade answers with, and how long each stage of an answer took."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from catalog import Title
from ranker.rows import Row


@dataclass(frozen=True)
class Recommendation:
    title: Title
    score: float
    sources: tuple[str, ...]  # every source that proposed it, strongest first
    reasons: tuple[str, ...]  # one human reason per source

    @property
    def explanation(self) -> str:
        return self.reasons[0]


@dataclass
class StageTimer:
    """Milliseconds per stage of the last request, for benchmarks and metrics."""

    last: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.last[name] = self.last.get(name, 0.0) + (time.perf_counter() - started) * 1000


class _Noted:
    """What a request noted about itself: whether the ranker is the fallback (candidates served in their
    merged order), why stage 1 fell back to in-memory popularity (None when it did not), and
    milliseconds per stage."""

    def __init__(
        self, *, ranker_fallback: bool, fallback: str | None, timings: Mapping[str, float] | None
    ) -> None:
        self.ranker_fallback = ranker_fallback
        self.fallback = fallback
        self.timings = dict(timings or {})

    @property
    def degraded(self) -> bool:
        return self.ranker_fallback or self.fallback is not None


class Picks(list[Recommendation], _Noted):
    """One request's picks, best first, with what the request noted about itself. A list, so a caller
    that wants only the titles reads it as one."""

    def __init__(
        self,
        items: Iterable[Recommendation] = (),
        *,
        ranker_fallback: bool = False,
        fallback: str | None = None,
        timings: Mapping[str, float] | None = None,
    ) -> None:
        list.__init__(self, items)
        _Noted.__init__(self, ranker_fallback=ranker_fallback, fallback=fallback, timings=timings)


class Page(list[Row], _Noted):
    """A homepage's rows in display order, with what its request noted about itself."""

    def __init__(
        self,
        rows: Iterable[Row] = (),
        *,
        ranker_fallback: bool = False,
        fallback: str | None = None,
        timings: Mapping[str, float] | None = None,
    ) -> None:
        list.__init__(self, rows)
        _Noted.__init__(self, ranker_fallback=ranker_fallback, fallback=fallback, timings=timings)


@dataclass(frozen=True)
class Health:
    """What an orchestrator asks of a loaded engine."""

    dataset: str
    built: str  # when its artifacts were built (ISO 8601)
    ranker: str  # the ranker's kind
    reasons: tuple[str, ...]  # why it serves degraded, if it does
    page_workers: Literal["starting", "ready", "failed"] | None  # None: no workers

    @property
    def degraded(self) -> bool:
        return bool(self.reasons)
