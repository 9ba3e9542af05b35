"""Interactions as a sparse users × items matrix, with the id maps to go back and forth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from catalog.interactions import Interactions

Weighting = Literal["binary", "rating"]
WEIGHTINGS: tuple[str, ...] = ("binary", "rating")


@dataclass(frozen=True, eq=False)
class UserItemMatrix:
    """`csr[u, i]` = summed weight of user `user_ids[u]`'s interactions with title `item_ids[i]`.

    Weighting: "binary" counts 1 per interaction; "rating" uses the rating value (1 where the
    rating is NaN, i.e. implicit data). Repeated (user, title) rows are summed, so a title seen
    twice weighs 2 under "binary".
    """

    csr: sp.csr_matrix  # float32, shape (n_users, n_items), canonical (sorted, no duplicates)
    user_ids: np.ndarray  # int64, row index -> dataset user id (sorted)
    item_ids: np.ndarray  # int64, column index -> title id (sorted)
    user_index: dict[int, int]
    item_index: dict[int, int]
    weighting: str

    @classmethod
    def from_interactions(cls, interactions: Interactions, weighting: str = "binary") -> UserItemMatrix:
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        user_ids, rows = np.unique(interactions.users, return_inverse=True)
        item_ids, cols = np.unique(interactions.items, return_inverse=True)
        if weighting == "binary":
            data = np.ones(len(interactions), dtype=np.float32)
        else:
            data = np.nan_to_num(interactions.ratings.astype(np.float32), nan=1.0)
        csr = sp.csr_matrix(
            (data, (rows.ravel(), cols.ravel())), shape=(len(user_ids), len(item_ids)), dtype=np.float32
        )
        csr.sum_duplicates()
        csr.sort_indices()
        return cls(
            csr=csr,
            user_ids=user_ids.astype(np.int64),
            item_ids=item_ids.astype(np.int64),
            user_index={int(u): r for r, u in enumerate(user_ids)},
            item_index={int(i): c for c, i in enumerate(item_ids)},
            weighting=weighting,
        )

    @property
    def shape(self) -> tuple[int, int]:
        return self.csr.shape

    @property
    def n_users(self) -> int:
        return self.csr.shape[0]

    @property
    def n_items(self) -> int:
        return self.csr.shape[1]

    def known(self, users: Sequence[int]) -> np.ndarray:
        """Boolean mask: which of `users` have a row."""
        return np.array([int(u) in self.user_index for u in users], dtype=bool)

    def rows(self, users: Sequence[int]) -> sp.csr_matrix:
        """The rows of `users`, in order; an all-zero row for a user unknown to the matrix."""
        index = np.array([self.user_index.get(int(u), -1) for u in users], dtype=np.int64)
        if len(index) and (index >= 0).all():
            return self.csr[index]
        known = index >= 0
        picked = self.csr[index[known]].tocoo()
        out_rows = np.flatnonzero(known)[picked.row]
        return sp.csr_matrix(
            (picked.data, (out_rows, picked.col)), shape=(len(index), self.n_items), dtype=self.csr.dtype
        )

    def column_indices(self, items: Sequence[int] | np.ndarray) -> np.ndarray:
        """Column index of each title id in `items` (titles without a column are dropped)."""
        cols = [self.item_index.get(int(i), -1) for i in items]
        return np.array([c for c in cols if c >= 0], dtype=np.int64)
