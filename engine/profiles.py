"""Who a request is for: a data set's users and the event store's profiles, as request contexts."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from catalog import (
    HISTORY_KINDS,
    Constraints,
    Context,
    Dataset,
    History,
    Store,
    Title,
    UnknownProfileError,
    allowed_maturity,
    history_from_events,
)
from engine.errors import UnknownUserError
from engine.periods import data_now
from ranker import taste_segment


class Profiles:
    """Read-only after construction, so any number of requests may use it at once."""

    def __init__(self, dataset: Dataset, store: Store) -> None:
        self._dataset = dataset
        self._store = store
        self._titles: Mapping[int, Title] = dataset.titles
        self._now = data_now(dataset)
        # Every user's rows, oldest first (stable for equal times), found by binary search per request.
        inter = dataset.interactions
        self._order = np.lexsort((inter.timestamps, inter.users))
        self._users = inter.users[self._order]
        self._user_ids = np.unique(self._users)

    def history(self, user_id: int) -> History:
        """A data set user's history, oldest first, as a profile would have it."""
        lo, hi = np.searchsorted(self._users, user_id), np.searchsorted(self._users, user_id, side="right")
        if lo == hi:
            users = self._user_ids
            raise UnknownUserError(
                f"unknown user {user_id} in {self._dataset.name}; valid: {users[0]}..{users[-1]} "
                f"({len(users)} users)"
            )
        rows = self._order[lo:hi]
        inter = self._dataset.interactions
        return History(
            items=inter.items[rows], weights=inter.ratings[rows], timestamps=inter.timestamps[rows]
        )

    def context_for(self, user_id: int, constraints: Constraints | None = None) -> Context:
        return Context(
            profile_id=str(user_id),
            history=self.history(user_id),
            constraints=constraints or Constraints(),
            now=self._now,
        )

    def profile_context(
        self,
        profile_id: str,
        *,
        region: str | None = None,
        device: str | None = None,
        now: float | None = None,
    ) -> Context:
        """A stored profile as of its latest events: its history, maturity limit and region."""
        profile = self._store.profile(profile_id)
        if profile is None:
            raise UnknownProfileError(f"unknown profile {profile_id!r}")
        # No limit is no condition, rather than one every title meets: each Qdrant query would pay for it.
        limit = profile.maturity_limit
        return Context(
            profile_id=profile_id,
            history=self.stored_history(profile_id),
            constraints=Constraints(maturity=allowed_maturity(limit) if limit is not None else ()),
            now=time.time() if now is None else now,
            region=region or profile.region,
            device=device,
        )

    def stored_history(self, profile_id: str) -> History:
        # Only the kinds a history is folded from: impressions, the most numerous, would be read for nothing.
        history = history_from_events(self._store.events(profile_id, kinds=HISTORY_KINDS))
        # A title removed from the catalog while serving is no longer offered to continue.
        kept = tuple(t for t in history.in_progress if t in self._titles)
        return history if kept == history.in_progress else replace(history, in_progress=kept)

    def segment(self, context: Context) -> str:
        """The profile's taste segment: the genre group its liked titles lean to ("new" without any)."""
        counts: dict[str, float] = {}
        for t in context.history.liked():
            title = self._titles.get(int(t))
            for g in title.genres if title is not None else ():
                counts[g] = counts.get(g, 0.0) + 1.0
        return taste_segment(counts)
