"""What the facade answers with, and how long each stage of an answer took."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from catalog import Title


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
