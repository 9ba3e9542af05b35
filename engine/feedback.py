"""Feedback: store a profile's events and let the bandits learn from the new ones at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from catalog import HISTORY_KINDS, Context, Event, EventKind, History, Store
from ranker import VARIANTS, ArtworkBandit, RowOrderBandit


def changes_history(events: Sequence[Event]) -> bool:
    """Whether any of these events can change what a profile is shown: the history its pages are built
    from. Impressions, skips, searches and list additions only teach the bandits, which every profile
    shares and whose counts move every page a little anyway."""
    return any(e.kind in HISTORY_KINDS for e in events)


class Feedback:
    """Safe to call from several threads: the store and the bandits each serialize their own writes."""

    def __init__(
        self,
        *,
        store: Store,
        artwork: ArtworkBandit,
        row_order: RowOrderBandit,
        history: Callable[[str], History],
        segment: Callable[[Context], str],
    ) -> None:
        self._store = store
        self._artwork = artwork
        self._row_order = row_order
        self._history = history
        self._segment = segment

    def record(self, events: Sequence[Event]) -> list[bool]:
        """Store events (all or none; a repeated event id is stored once) and learn from the new ones:
        an impression is a trial of its artwork and row, a play from one a success."""
        stored = self._store.append(events)
        artwork: list[tuple[int, str, str, bool]] = []
        rows: list[tuple[str, str, bool]] = []
        segments: dict[str, str] = {}
        for event, new in zip(events, stored, strict=True):
            if not new or event.kind not in (EventKind.IMPRESSION, EventKind.PLAY):
                continue
            if event.profile_id not in segments:
                history = self._history(event.profile_id)
                segments[event.profile_id] = self._segment(
                    Context(profile_id=event.profile_id, history=history)
                )
            segment, taken = segments[event.profile_id], event.kind == EventKind.PLAY
            variant = event.context.get("artwork")
            if isinstance(variant, str) and variant in VARIANTS:
                artwork.append((event.title_id, segment, variant, taken))
            if event.row:
                rows.append((segment, event.row.split(":")[0], taken))
        # A transaction per bandit for the whole batch: on a shared database, one round trip each.
        if artwork:
            self._artwork.update_many(artwork)
        if rows:
            self._row_order.update_many(rows)
        return stored
