"""A request's filter as a boolean mask over a fixed list of titles, for the sources scored in numpy
(EASE) rather than in the index, with the index's semantics: a title missing a year or runtime fails a
range condition, one without business facts fails a region condition.

Built once per model: every condition is a column lookup or a comparison over arrays, and the mask of a
filter's conditions (all but the excluded ids, which differ per profile) is kept for the next request
with the same conditions, so a request pays a copy of one mask, not a pass over the titles in Python.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from threading import Lock

import numpy as np

from catalog import Business, Title
from retrieval.index import TitleFilter

KEPT_MASKS = 256  # distinct filters kept (per region, maturity limit and asked genres, mostly)


class FilterMasks:
    """Masks over `titles[i]` (None: not in the catalog, never allowed), with `facts[i]` their business
    facts (None: no region is licensed, and the title's own maturity rating counts)."""

    def __init__(self, titles: Sequence[Title | None], facts: Sequence[Business | None]) -> None:
        self._in_catalog = np.array([t is not None for t in titles], bool)
        self._year = _numbers([t.year if t is not None else None for t in titles])
        self._runtime = _numbers([t.runtime if t is not None else None for t in titles])
        genres = [frozenset(t.genres) if t is not None else frozenset() for t in titles]
        self._genres, self._genre_matrix = _membership(genres)
        maturity = [
            b.maturity if b is not None else (t.maturity if t is not None else None)
            for b, t in zip(facts, titles, strict=True)
        ]
        self._maturity_values = list(dict.fromkeys(maturity))
        code = {value: i for i, value in enumerate(self._maturity_values)}
        self._maturity = np.array([code[m] for m in maturity], np.int64)
        regions = [frozenset(b.regions) if b is not None else frozenset() for b in facts]
        self._regions, self._region_matrix = _membership(regions)
        self._kept: OrderedDict[TitleFilter, np.ndarray] = OrderedDict()
        self._lock = Lock()

    def allowed(self, where: TitleFilter) -> np.ndarray:
        """Every condition of `where` but `exclude_ids`, as a new mask the caller may change."""
        key = replace(where, exclude_ids=frozenset())
        with self._lock:
            mask = self._kept.get(key)
            if mask is not None:
                self._kept.move_to_end(key)
                return mask.copy()
        mask = self._mask(key)
        with self._lock:
            self._kept[key] = mask
            while len(self._kept) > KEPT_MASKS:
                self._kept.popitem(last=False)
        return mask.copy()

    def _mask(self, where: TitleFilter) -> np.ndarray:
        ok = self._in_catalog.copy()
        if where.genres_any:
            ok &= self._any_genre(where.genres_any)
        if where.genres_none:
            ok &= ~self._any_genre(where.genres_none)
        if where.year_min is not None:
            ok &= self._year >= where.year_min
        if where.year_max is not None:
            ok &= self._year <= where.year_max
        if where.max_runtime is not None:
            ok &= self._runtime <= where.max_runtime
        if where.maturity_in:
            codes = [i for i, value in enumerate(self._maturity_values) if value in where.maturity_in]
            ok &= np.isin(self._maturity, codes)
        if where.region is not None:
            column = self._regions.get(where.region)
            ok &= self._region_matrix[:, column] if column is not None else False
        return ok

    def _any_genre(self, genres: Sequence[str]) -> np.ndarray:
        columns = [self._genres[g] for g in genres if g in self._genres]
        return np.asarray(self._genre_matrix[:, columns].any(axis=1))


def _numbers(values: Sequence[int | None]) -> np.ndarray:
    """float, NaN for a missing value: a comparison with NaN is false, as with a missing payload field."""
    return np.array([np.nan if v is None else v for v in values], float)


def _membership(sets: Sequence[frozenset[str]]) -> tuple[dict[str, int], np.ndarray]:
    """Each value's column, and a (len(sets), values) boolean matrix of which set holds which value."""
    columns = {value: j for j, value in enumerate(sorted({v for s in sets for v in s}))}
    matrix = np.zeros((len(sets), len(columns)), bool)
    for i, values in enumerate(sets):
        matrix[i, [columns[v] for v in values]] = True
    return columns, matrix
