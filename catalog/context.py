"""What a request knows about the viewer: history, constraints, time and place."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np


@dataclass(frozen=True, eq=False)
class History:
    """A profile's viewing history, oldest first. `weights` is a rating or an implicit strength."""

    items: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    weights: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    timestamps: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    in_progress: tuple[int, ...] = ()  # started, not finished: continue watching
    disliked: frozenset[int] = frozenset()  # thumbs down: never recommended
    my_list: tuple[int, ...] = ()  # saved for later, newest first; not seen, so still recommendable

    def __len__(self) -> int:
        return len(self.items)

    def seen(self) -> frozenset[int]:
        return self._seen

    @cached_property
    def _seen(self) -> frozenset[int]:
        # Once per history (it is frozen): every candidate query of a request leaves these titles out.
        return frozenset(self.items.tolist()) | frozenset(self.in_progress) | self.disliked

    def liked(self, threshold: float = 4.0) -> np.ndarray:
        """Items with a positive signal; for implicit histories (NaN weights) every item."""
        if len(self.weights) and np.isnan(self.weights).all():
            return self.items
        return self.items[self.weights >= threshold]


@dataclass(frozen=True)
class Constraints:
    """Hard constraints a conversation or an app asks for; they become Qdrant filters."""

    genres: tuple[str, ...] = ()
    exclude_genres: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    max_runtime: int | None = None
    maturity: tuple[str, ...] = ()
    exclude_titles: frozenset[int] = frozenset()
    reference_titles: tuple[int, ...] = ()
    mood: str = ""


@dataclass(frozen=True, eq=False)
class Context:
    """Everything a candidate source may look at for one request."""

    profile_id: str
    history: History = field(default_factory=History)
    constraints: Constraints = field(default_factory=Constraints)
    now: float = 0.0  # unix seconds
    query: str = ""  # free text, for search
    region: str | None = None
    device: str | None = None
