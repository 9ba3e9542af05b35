"""Interactions as a sparse user x item matrix, the input every CF model fits on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from catalog.interactions import Interactions

Weighting = Literal["binary", "rating"]
WEIGHTINGS: tuple[str, ...] = ("binary", "rating")


def interaction_weights(ratings: np.ndarray, weighting: Weighting) -> np.ndarray:
    """Per-interaction strength: 1 for binary; the rating (1 where implicit) for rating."""
    if weighting == "binary":
        return np.ones(len(ratings), np.float32)
    if weighting == "rating":
        return np.where(np.isnan(ratings), 1.0, ratings).astype(np.float32)
    raise ValueError(f"unknown weighting {weighting!r}; valid: {', '.join(WEIGHTINGS)}")


@dataclass(frozen=True, eq=False)
class UserItemMatrix:
    """CSR users x items; duplicate (user, item) pairs keep their strongest weight."""

    csr: sp.csr_matrix
    user_ids: np.ndarray  # row -> dataset user id
    item_ids: np.ndarray  # column -> title id

    @classmethod
    def build(
        cls,
        interactions: Interactions,
        weighting: Weighting = "binary",
        item_ids: np.ndarray | None = None,
        decay: Callable[[Interactions], np.ndarray] | None = None,
    ) -> UserItemMatrix:
        """`item_ids` fixes the columns (e.g. the whole catalog); rows for unknown items are dropped.

        `decay` multiplies each interaction's weight (e.g. down-weighting old interactions).
        """
        users = interactions.user_ids()
        items = interactions.item_ids() if item_ids is None else np.asarray(item_ids, np.int64)
        cols = _positions(items, interactions.items)
        keep = cols >= 0
        rows = np.searchsorted(users, interactions.users[keep])
        data = interaction_weights(interactions.ratings[keep], weighting)
        if decay is not None and interactions.timed:
            data = data * decay(interactions)[keep]
        coo = sp.coo_matrix((data, (rows, cols[keep])), shape=(len(users), len(items)))
        csr = _max_duplicates(coo)
        return cls(csr=csr, user_ids=users, item_ids=items)

    @property
    def n_items(self) -> int:
        return int(self.csr.shape[1])

    def row_of(self, user_id: int) -> int | None:
        pos = int(np.searchsorted(self.user_ids, user_id))
        return pos if pos < len(self.user_ids) and self.user_ids[pos] == user_id else None

    def known(self, users: Sequence[int]) -> np.ndarray:
        """Boolean mask: which of `users` have a row."""
        return _positions(self.user_ids, np.asarray(users, np.int64)) >= 0

    def rows(self, users: Sequence[int]) -> sp.csr_matrix:
        """The rows of `users`, in order; an all-zero row for a user the matrix does not know."""
        index = _positions(self.user_ids, np.asarray(users, np.int64))
        picked = sp.csr_matrix(sp.diags((index >= 0).astype(np.float32)) @ self.csr[np.maximum(index, 0)])
        picked.eliminate_zeros()
        return picked

    def columns(self, title_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Column of each title id, -1 where the title is not a column."""
        return _positions(self.item_ids, np.asarray(title_ids, np.int64))


def _positions(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    if not len(sorted_ids):
        return np.full(len(ids), -1, np.int64)
    pos = np.searchsorted(sorted_ids, ids)
    pos = np.minimum(pos, len(sorted_ids) - 1)
    return np.where(sorted_ids[pos] == ids, pos, -1)


def _max_duplicates(coo: sp.coo_matrix) -> sp.csr_matrix:
    # Re-ratings of the same title should not add up to more confidence than one strong rating.
    order = np.lexsort((-coo.data, coo.col, coo.row))
    row, col, data = coo.row[order], coo.col[order], coo.data[order]
    first = np.ones(len(row), bool)
    first[1:] = (row[1:] != row[:-1]) | (col[1:] != col[:-1])
    return sp.csr_matrix((data[first], (row[first], col[first])), shape=coo.shape, dtype=np.float32)
