"""The conversation stores: one suite run against SQLite and PostgreSQL alike (a congruence suite). Two
instances over one file or database stand for two replicas (`open_conversations`: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

from catalog.conversations import Conversations


def test_a_conversation_saved_by_one_store_is_read_and_replaced_through_another(
    open_conversations: Callable[[], Conversations],
) -> None:
    a, b = open_conversations(), open_conversations()
    assert b.get("p1", "c1") is None
    a.save("p1", "c1", '{"turns": 1}')
    assert b.get("p1", "c1") == '{"turns": 1}'
    b.save("p1", "c1", '{"turns": 2}')  # the next turn, on the other replica, replaces the state
    assert a.get("p1", "c1") == '{"turns": 2}'


def test_an_id_names_a_conversation_within_one_profile_only(
    open_conversations: Callable[[], Conversations],
) -> None:
    store = open_conversations()
    store.save("a", "movie-night", "mine")
    assert store.get("b", "movie-night") is None
    store.save("b", "movie-night", "theirs")
    assert (store.get("a", "movie-night"), store.get("b", "movie-night")) == ("mine", "theirs")


def test_text_comes_back_whole(open_conversations: Callable[[], Conversations]) -> None:
    store = open_conversations()
    text = '{"transcript": "quotes \' and \\" and ünïcödé, 🎬", "n": ' + "9" * 5000 + "}"
    store.save("p", "c", text)
    assert open_conversations().get("p", "c") == text
