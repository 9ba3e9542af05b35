"""Conversation ids are each profile's own, and conversations stored under global ids move over."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

from assistant.state import ConversationStore, DialogueState


def test_the_same_id_names_one_conversation_per_profile(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite")
    mine = DialogueState(id="movie-night", profile_id="a", turns=3)
    store.save(mine)
    assert store.get("movie-night", "b") is None  # nothing of a's, not even that the id is taken
    store.save(DialogueState(id="movie-night", profile_id="b", turns=1))
    assert store.get("movie-night", "a") == mine  # b's save did not touch a's
    assert store.get("movie-night", "b").turns == 1  # type: ignore[union-attr]
    store.close()


def test_conversations_under_global_ids_move_over(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    old = DialogueState(id="x", profile_id="a", turns=2)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "CREATE TABLE conversations ("
            " id TEXT PRIMARY KEY, profile_id TEXT NOT NULL, state TEXT NOT NULL, updated REAL NOT NULL)"
        )
        db.execute(
            "INSERT INTO conversations VALUES (?, ?, ?, ?)", ("x", "a", old.model_dump_json(), time.time())
        )
    store = ConversationStore(path)
    assert store.get("x", "a") == old
    store.close()
    store = ConversationStore(path)  # a second open finds nothing left to move
    assert store.get("x", "a") == old
    store.close()
