"""User-title interactions as parallel arrays: the one container every stage trains from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POSITIVE_RATING = 4.0


@dataclass(frozen=True, eq=False)
class Interactions:
    """Parallel arrays, one row per interaction.

    `ratings` is NaN for implicit data (ml-1m pairs); `timestamps` is -1 where unknown.
    """

    users: np.ndarray  # int64 dataset user ids
    items: np.ndarray  # int64 title ids
    ratings: np.ndarray  # float32
    timestamps: np.ndarray  # int64 unix seconds

    def __post_init__(self) -> None:
        n = len(self.users)
        if not (len(self.items) == len(self.ratings) == len(self.timestamps) == n):
            raise ValueError("interaction arrays must have the same length")

    def __len__(self) -> int:
        return len(self.users)

    @classmethod
    def from_arrays(
        cls,
        users: np.ndarray,
        items: np.ndarray,
        ratings: np.ndarray | None = None,
        timestamps: np.ndarray | None = None,
    ) -> Interactions:
        n = len(users)
        return cls(
            users=np.asarray(users, dtype=np.int64),
            items=np.asarray(items, dtype=np.int64),
            ratings=np.full(n, np.nan, np.float32) if ratings is None else np.asarray(ratings, np.float32),
            timestamps=np.full(n, -1, np.int64) if timestamps is None else np.asarray(timestamps, np.int64),
        )

    @property
    def explicit(self) -> bool:
        return bool(len(self)) and not bool(np.isnan(self.ratings).all())

    @property
    def timed(self) -> bool:
        return bool(len(self)) and bool((self.timestamps >= 0).all())

    def select(self, mask: np.ndarray) -> Interactions:
        return Interactions(self.users[mask], self.items[mask], self.ratings[mask], self.timestamps[mask])

    def positive_mask(self, threshold: float = POSITIVE_RATING) -> np.ndarray:
        """Rating >= threshold, or every row when the data is implicit."""
        if not self.explicit:
            return np.ones(len(self), dtype=bool)
        return self.ratings >= threshold

    def positives(self, threshold: float = POSITIVE_RATING) -> Interactions:
        return self.select(self.positive_mask(threshold))

    def user_ids(self) -> np.ndarray:
        return np.unique(self.users)

    def item_ids(self) -> np.ndarray:
        return np.unique(self.items)

    def items_by_user(self) -> dict[int, np.ndarray]:
        """Each user's items in time order (input order when untimed)."""
        order = np.lexsort((self.timestamps, self.users))
        users, items = self.users[order], self.items[order]
        bounds = np.flatnonzero(np.diff(users)) + 1
        return {
            int(chunk_users[0]): chunk_items
            for chunk_users, chunk_items in zip(np.split(users, bounds), np.split(items, bounds), strict=True)
            if len(chunk_users)
        }
