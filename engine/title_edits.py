"""Titles an operator adds, changes or removes while serving (`POST/PATCH/DELETE /v1/titles`).

They are kept in the data set's serving state (one JSON file, replaced atomically) and laid over the data
set wherever it is loaded: the serving engine (at once, by reloading over the same index) and the next
`marquee build`. A removed title also leaves the index's answers at once: `WithoutRemoved` excludes it
from every query, so no source proposes it before the next build drops its point.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from catalog import Dataset, Title
from engine.config import Settings
from retrieval import Hit, TitleFilter, TitleIndex, TitlePoint

TITLES_FILE = "titles.json"
_LISTS = ("genres", "keywords", "tags", "directors", "cast")


class TitleEdits:
    """The operator's titles (added or changed) and removed ids of one data set; safe across threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings: Settings, dataset: str) -> TitleEdits:
        """The edits of one data set, in its serving state."""
        return cls(settings.dataset_state(dataset) / TITLES_FILE)

    def read(self) -> tuple[dict[int, Title], frozenset[int]]:
        if not self.path.is_file():
            return {}, frozenset()
        raw = json.loads(self.path.read_text())
        put = {int(k): _title(v) for k, v in raw.get("put", {}).items()}
        return put, frozenset(int(t) for t in raw.get("removed", []))

    def put(self, title: Title) -> None:
        with self._lock:
            put, removed = self.read()
            put[title.id] = title
            self._write(put, removed - {title.id})

    def remove(self, title_id: int) -> None:
        with self._lock:
            put, removed = self.read()
            put.pop(title_id, None)
            self._write(put, removed | {title_id})

    def apply(self, dataset: Dataset) -> Dataset:
        """The data set with the operator's titles in it and the removed ones out of it."""
        put, removed = self.read()
        if not put and not removed:
            return dataset
        titles = {t: title for t, title in {**dataset.titles, **put}.items() if t not in removed}
        return replace(dataset, titles=titles, stats={**dataset.stats, "titles": len(titles)})

    def _write(self, put: Mapping[int, Title], removed: frozenset[int]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"put": {str(t): dataclasses.asdict(v) for t, v in put.items()}, "removed": sorted(removed)}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=1))
        tmp.replace(self.path)


def _title(raw: Mapping[str, object]) -> Title:
    # JSON that `_write` made from a Title: its fields by name, lists back to tuples.
    return Title(**{k: tuple(v) if k in _LISTS else v for k, v in raw.items()})  # type: ignore[arg-type]


class WithoutRemoved:
    """A title index whose queries leave out removed titles (their points stay until the next build)."""

    def __init__(self, inner: TitleIndex, removed: frozenset[int]) -> None:
        self.inner = inner
        self.removed = removed

    def _where(self, where: TitleFilter | None) -> TitleFilter:
        base = where or TitleFilter()
        return replace(base, exclude_ids=frozenset(base.exclude_ids) | self.removed)

    def upsert(self, points: Sequence[TitlePoint]) -> None:
        self.inner.upsert(points)

    def search(
        self, *, vector: str, query: np.ndarray, k: int, where: TitleFilter | None = None, exact: bool = False
    ) -> list[Hit]:
        return self.inner.search(vector=vector, query=query, k=k, where=self._where(where), exact=exact)

    def top_by(self, *, field: str, k: int, where: TitleFilter | None = None) -> list[Hit]:
        return self.inner.top_by(field=field, k=k, where=self._where(where))

    def vectors(self, *, vector: str, ids: Sequence[int]) -> dict[int, np.ndarray]:
        return {t: v for t, v in self.inner.vectors(vector=vector, ids=ids).items() if t not in self.removed}

    def count(self) -> int:
        return self.inner.count()

    def known_down(self) -> str | None:
        return self.inner.known_down()

    def close(self) -> None:
        self.inner.close()
