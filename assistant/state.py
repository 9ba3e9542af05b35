"""Dialogue state per conversation, persisted in SQLite so a conversation survives a restart."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from assistant.preferences import Preferences
from engine import new_id

TRANSCRIPT_TURNS = 20  # messages kept for the LLM's context; older ones add cost, not meaning


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str
    content: str


class DialogueState(BaseModel):
    """Everything one conversation knows: whose it is, what was elicited, what was already shown."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_id)
    profile_id: str
    preferences: Preferences = Field(default_factory=Preferences)
    shown: list[int] = Field(default_factory=list)  # every title named so far, oldest first
    last_shown: list[int] = Field(default_factory=list)  # the previous reply's picks: "seen it" means these
    questions_asked: int = 0
    offer: str | None = None  # a preference the last reply offered to drop ("Shall I drop the era?")
    turns: int = 0
    transcript: list[Message] = Field(default_factory=list)

    def remember(self, role: str, content: str) -> None:
        self.transcript = [*self.transcript, Message(role=role, content=content)][-TRANSCRIPT_TURNS:]

    def show(self, title_ids: list[int]) -> None:
        """Remember a reply's picks. A reply without picks (an explanation, a question) leaves the last
        ones in place: "seen those" after "why the second one?" still means the picks."""
        if title_ids:
            self.last_shown = list(title_ids)
        self.shown = self.shown + [t for t in title_ids if t not in self.shown]


class ConversationStore:
    """Conversations by (profile, id): an id names a conversation within one profile only, so a client's
    chosen id can neither squat another profile's nor tell whether another profile uses it."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS profile_conversations (profile_id TEXT NOT NULL, id TEXT NOT NULL,"
            " state TEXT NOT NULL, updated REAL NOT NULL, PRIMARY KEY (profile_id, id))"
        )
        # Conversations stored when ids were global move over once.
        if self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'conversations'").fetchone():
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR IGNORE INTO profile_conversations SELECT profile_id, id, state, updated"
                " FROM conversations"
            )
            self._db.execute("DROP TABLE conversations")
            self._db.execute("COMMIT")
        self._lock = threading.Lock()

    def get(self, conversation_id: str, profile_id: str) -> DialogueState | None:
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM profile_conversations WHERE profile_id = ? AND id = ?",
                (profile_id, conversation_id),
            ).fetchone()
        return DialogueState.model_validate_json(row[0]) if row else None

    def save(self, state: DialogueState) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO profile_conversations (profile_id, id, state, updated) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(profile_id, id)"
                " DO UPDATE SET state = excluded.state, updated = excluded.updated",
                (state.profile_id, state.id, state.model_dump_json(), time.time()),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
