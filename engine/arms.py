"""Experiment arms at serving time: what an arm serves with, and the log of pages served under one.

An arm never changes what other requests use: it gets copies of stage 2 and the row builder, made once
per arm name and then shared, read-only, by every request of that arm.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from catalog import Context
from engine.config import parse_arm
from engine.experiments import PageStore, ServedPage
from ranker import SourceOrderRanker, intra_list_diversity
from ranker.pipeline import Stage2
from ranker.rows import Row, RowBuilder, RowKind


class Arms:
    """Stage 2 and the row builder per arm: the configured ones for no arm, adjusted copies otherwise."""

    def __init__(self, stage2: Stage2, builder: RowBuilder) -> None:
        self._base = (stage2, builder)
        self._made: dict[str, tuple[Stage2, RowBuilder]] = {}
        self._lock = threading.Lock()

    def parts(self, arm: str | None) -> tuple[Stage2, RowBuilder]:
        if arm is None:
            return self._base
        with self._lock:
            if arm not in self._made:
                self._made[arm] = _arm_parts(*self._base, arm)
            return self._made[arm]


def _arm_parts(stage2: Stage2, builder: RowBuilder, arm: str) -> tuple[Stage2, RowBuilder]:
    spec = parse_arm(arm)
    if spec.ranker == "candidate_order":
        stage2 = replace(stage2, ranker=SourceOrderRanker(names=stage2.features.names))
    if spec.diversity is not None:
        weights = stage2.weights.model_copy(update={"diversity": spec.diversity})
        stage2, builder = replace(stage2, weights=weights), replace(builder, weights=weights)
    return stage2, builder


class PageLog:
    """Pages served under an experiment arm, for the report's guardrails (latency, Top Picks diversity).

    The store is opened on the first page logged, so serving without an experiment writes nothing.
    """

    def __init__(self, opener: Callable[[], PageStore], stage2: Stage2) -> None:
        self._opener = opener
        self._stage2 = stage2
        self._pages: PageStore | None = None
        self._lock = threading.Lock()

    def add(
        self,
        *,
        context: Context,
        experiment: str | None,
        arm: str,
        rows: list[Row],
        latency_ms: float,
        teams: dict[int, str],
    ) -> None:
        top = next((r for r in rows if r.kind == RowKind.TOP_PICKS), None)
        ids = np.array([i.title_id for i in top.items] if top else [], np.int64)
        page = ServedPage(
            profile_id=context.profile_id,
            experiment=experiment,
            arm=arm,
            ts=time.time(),
            latency_ms=latency_ms,
            ild=intra_list_diversity(self._stage2.vectors(ids)) if len(ids) else 0.0,
            teams=teams or None,
        )
        self._open().add(page)

    def close(self) -> None:
        with self._lock:
            if self._pages is not None:
                self._pages.close()
                self._pages = None

    def _open(self) -> PageStore:
        with self._lock:
            if self._pages is None:
                self._pages = self._opener()
            return self._pages
