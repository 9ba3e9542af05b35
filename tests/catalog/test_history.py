from __future__ import annotations

from catalog import Event, EventKind, history_from_events


def _e(i: int, title: int, kind: str, ts: float, value: float | None = None) -> Event:
    return Event(f"e{i}", "p", title, EventKind(kind), value=value, ts=ts)


def test_events_fold_into_watched_started_and_disliked() -> None:
    history = history_from_events(
        [
            _e(1, 10, "play", 100),
            _e(2, 10, "complete", 200),
            _e(3, 20, "play", 150),
            _e(4, 20, "progress", 160, value=0.4),
            _e(5, 30, "play", 170),
            _e(6, 30, "thumb_down", 180),
            _e(7, 40, "impression", 190),
            _e(8, 50, "progress", 210, value=0.95),
            _e(9, 60, "thumb_up", 220),
        ]
    )
    assert history.items.tolist() == [20, 10, 50, 60]  # by last activity; 30 disliked, 40 only shown
    assert dict(zip(history.items.tolist(), history.weights.tolist(), strict=True)) == {
        20: 3.5,
        10: 4.5,
        50: 3.5,
        60: 5.0,
    }
    assert history.in_progress == (20,)  # 10 completed, 50 past 90%, 30 disliked
    assert history.disliked == frozenset({30})
    assert {10, 20, 30, 50, 60} <= history.seen() and 40 not in history.seen()


def test_order_of_arrival_does_not_matter_and_thumb_up_undoes_down() -> None:
    events = [_e(1, 7, "thumb_down", 10), _e(2, 7, "thumb_up", 20)]
    for batch in (events, events[::-1]):
        history = history_from_events(batch)
        assert history.disliked == frozenset() and history.items.tolist() == [7]


def test_empty_history() -> None:
    history = history_from_events([])
    assert len(history) == 0 and history.in_progress == () and history.disliked == frozenset()


def test_my_list_is_newest_first_and_loses_removed_and_finished_titles() -> None:
    history = history_from_events(
        [
            _e(1, 1, "add_to_list", 10),
            _e(2, 2, "add_to_list", 20),
            _e(3, 3, "add_to_list", 30),
            _e(4, 4, "add_to_list", 40),
            _e(5, 2, "remove_from_list", 50),
            _e(6, 3, "play", 60),  # started: still on the list
            _e(7, 4, "progress", 70, value=0.95),  # finished: leaves it
            _e(8, 1, "add_to_list", 80),  # added again: newest now
            _e(9, 5, "complete", 5),  # finished before it was added: stays
            _e(10, 5, "add_to_list", 90),
        ]
    )
    assert history.my_list == (5, 1, 3)
    assert 1 not in history.seen()  # saving a title is not watching it
