"""Titles an operator adds, changes or removes while serving (`POST/PATCH/DELETE /v1/titles`).

They are kept in one `TitleEditStore`, chosen by config (`title_edits`): by default a JSON file in the
data set's serving state (replaced atomically); with MARQUEE_DATABASE_URL, PostgreSQL
(catalog/pg_title_edits.py), shared by every replica. They are laid over the data set wherever it is
loaded: the serving engine (at once, by reloading over the same index), every other replica (which polls
the store's version and reloads when it moved: api/catalog_sync.py) and the next `marquee build`. A
removed title also leaves the index's answers at once: `WithoutRemoved` excludes it from every query, so
no source proposes it before the next build drops its point.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import numpy as np

from catalog import Dataset, Title
from catalog.pg_title_edits import PostgresTitleEdits
from engine.config import Settings
from retrieval import Hit, TitleFilter, TitleIndex, TitlePoint

TITLES_FILE = "titles.json"


class TitleEditStore(Protocol):
    """The operator's titles (added or changed) and removed ids of one data set; safe across threads."""

    def read(self) -> tuple[dict[int, Title], frozenset[int]]: ...

    def put(self, title: Title) -> None: ...

    def add(self, title: Title) -> bool:
        """`put` a title under an id no edit holds a title under (a removed one may be reused); False,
        storing nothing, when one does: a replica that picked the same new id first."""
        ...

    def remove(self, title_id: int) -> None: ...

    def version(self) -> int:
        """Raised by every edit: an engine loaded at an older version lacks some edits."""
        ...

    def close(self) -> None: ...


def title_edits(settings: Settings, dataset: str) -> TitleEditStore:
    """The edits of one data set: in PostgreSQL with MARQUEE_DATABASE_URL, else in its serving state."""
    if settings.database_url is not None:
        return PostgresTitleEdits(settings.database_url.get_secret_value(), dataset)
    return TitleEdits.of(settings, dataset)


def apply_edits(dataset: Dataset, put: Mapping[int, Title], removed: frozenset[int]) -> Dataset:
    """The data set with the operator's titles (`put`, as a store reads them) in it and the removed ones
    out of it."""
    if not put and not removed:
        return dataset
    titles = {t: title for t, title in {**dataset.titles, **put}.items() if t not in removed}
    return replace(dataset, titles=titles, stats={**dataset.stats, "titles": len(titles)})


class TitleEdits:
    """The edits in one JSON file (a `TitleEditStore`); shared only by processes with the same state
    folder."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings: Settings, dataset: str) -> TitleEdits:
        """The edits of one data set, in its serving state."""
        return cls(settings.dataset_state(dataset) / TITLES_FILE)

    def read(self) -> tuple[dict[int, Title], frozenset[int]]:
        put, removed, _ = self._read()
        return put, removed

    def version(self) -> int:
        return self._read()[2]

    def put(self, title: Title) -> None:
        with self._lock:
            put, removed, version = self._read()
            put[title.id] = title
            self._write(put, removed - {title.id}, version + 1)

    def add(self, title: Title) -> bool:
        with self._lock:
            put, removed, version = self._read()
            if title.id in put:
                return False
            put[title.id] = title
            self._write(put, removed - {title.id}, version + 1)
            return True

    def remove(self, title_id: int) -> None:
        with self._lock:
            put, removed, version = self._read()
            put.pop(title_id, None)
            self._write(put, removed | {title_id}, version + 1)

    def close(self) -> None:
        """Nothing held open."""

    def _read(self) -> tuple[dict[int, Title], frozenset[int], int]:
        if not self.path.is_file():
            return {}, frozenset(), 0
        raw = json.loads(self.path.read_text())
        put = {int(k): Title.from_json(v) for k, v in raw.get("put", {}).items()}
        return put, frozenset(int(t) for t in raw.get("removed", [])), int(raw.get("version", 0))

    def _write(self, put: Mapping[int, Title], removed: frozenset[int], version: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "version": version,
            "put": {str(t): v.to_json() for t, v in put.items()},
            "removed": sorted(removed),
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=1))
        tmp.replace(self.path)


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
