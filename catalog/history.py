"""A profile's history as stage 1 and 2 read it, folded from its raw events."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from catalog.context import History
from catalog.events import Event, EventKind

# Implicit strength of each signal on the 0.5-5 rating scale the models were trained on.
STRENGTH = {
    EventKind.THUMB_UP: 5.0,
    EventKind.COMPLETE: 4.5,
    EventKind.PLAY: 3.5,
    EventKind.PROGRESS: 3.5,
}
STARTED = (EventKind.PLAY, EventKind.PROGRESS)
LIST_KINDS = (EventKind.ADD_TO_LIST, EventKind.REMOVE_FROM_LIST)
# The kinds a history is folded from; the others (impressions, skips, searches) leave it.
HISTORY_KINDS = frozenset({*STRENGTH, EventKind.THUMB_DOWN, *LIST_KINDS})
FINISHED_FRACTION = 0.9  # progress at or past this counts as finished


def history_from_events(events: Sequence[Event]) -> History:
    """Fold events (any order) into a History: watched titles with their strongest signal and latest
    time, titles started but not finished (continue watching, most recent last), thumbs down, and My List
    (newest addition first).

    A thumbs down wins over everything before it and is undone by a later thumbs up; impressions,
    skips and searches are not viewing and leave the history alone. A title leaves My List when it is
    removed or finished after it was added.
    """
    strength: dict[int, float] = {}
    last: dict[int, float] = {}
    started: dict[int, float] = {}
    finished: set[int] = set()
    disliked: set[int] = set()
    listed: dict[int, None] = {}  # titles on the list, in the order they were (last) added
    for e in sorted(events, key=lambda e: (e.ts, e.event_id)):
        t = e.title_id
        if e.kind in LIST_KINDS:
            listed.pop(t, None)
            if e.kind == EventKind.ADD_TO_LIST:
                listed[t] = None
            continue
        if e.kind == EventKind.THUMB_DOWN:
            disliked.add(t)
            continue
        if e.kind not in STRENGTH:
            continue
        if e.kind == EventKind.THUMB_UP:
            disliked.discard(t)
        strength[t] = max(strength.get(t, 0.0), STRENGTH[e.kind])
        last[t] = e.ts
        done = e.kind == EventKind.COMPLETE or (
            e.kind == EventKind.PROGRESS and e.value is not None and e.value >= FINISHED_FRACTION
        )
        if done:
            finished.add(t)
            started.pop(t, None)
            listed.pop(t, None)
        elif e.kind in STARTED and t not in finished:
            started[t] = e.ts
    watched = sorted((t for t in strength if t not in disliked), key=lambda t: (last[t], t))
    in_progress = tuple(t for t, _ in sorted(started.items(), key=lambda kv: kv[1]) if t not in disliked)
    return History(
        items=np.array(watched, dtype=np.int64),
        weights=np.array([strength[t] for t in watched], dtype=np.float32),
        timestamps=np.array([int(last[t]) for t in watched], dtype=np.int64),
        in_progress=in_progress,
        disliked=frozenset(disliked),
        my_list=tuple(reversed(listed)),  # additions arrive in time order; a re-added title moved last
    )
