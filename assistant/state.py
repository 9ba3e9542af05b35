"""Dialogue state per conversation, persisted so a conversation survives a restart and continues on any
replica (SQLite beside the process, or PostgreSQL: catalog/conversations.py through the engine)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from assistant.preferences import Preferences
from engine import Conversations, SQLiteConversations, new_id

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
    chosen id can neither squat another profile's nor tell whether another profile uses it.

    Kept in `where`: a SQLite file's path, or the engine's conversation store (`Engine.conversations()`:
    PostgreSQL, shared by replicas, when a database URL is set)."""

    def __init__(self, where: Conversations | Path | str) -> None:
        self._owned = isinstance(where, Path | str)  # the engine's store is the engine's to close
        self._rows = SQLiteConversations(where) if isinstance(where, Path | str) else where

    def get(self, conversation_id: str, profile_id: str) -> DialogueState | None:
        found = self._rows.get(profile_id, conversation_id)
        return DialogueState.model_validate_json(found) if found is not None else None

    def save(self, state: DialogueState) -> None:
        self._rows.save(state.profile_id, state.id, state.model_dump_json())

    def close(self) -> None:
        if self._owned:
            self._rows.close()
