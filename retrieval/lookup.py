"""Where ids sit in a sorted id array: the one search every model's title columns are read through."""

from __future__ import annotations

import numpy as np


def lookup(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each of `ids` in `sorted_ids` (clipped to a valid one) and whether it is there."""
    ids = np.asarray(ids, np.int64)
    if not len(sorted_ids):
        return np.zeros(len(ids), np.int64), np.zeros(len(ids), bool)
    pos = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
    return pos, sorted_ids[pos] == ids


def known_positions(sorted_ids: np.ndarray, history: np.ndarray) -> np.ndarray:
    """The distinct positions in `sorted_ids` of a profile's titles, those it has (sorted)."""
    pos, known = lookup(sorted_ids, np.unique(np.asarray(history, np.int64)))
    rows: np.ndarray = pos[known]
    return rows
