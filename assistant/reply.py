"""One assistant turn's answer, the same shape whichever driver produced it, and the writer that streams
its text while it is composed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field

from assistant.tools import TitleCard

Emit = Callable[[str], None]  # where a streamed reply's pieces go, in order


class Reply(BaseModel):
    text: str
    titles: list[TitleCard] = Field(default_factory=list)  # the picks, grounded, in the order named
    question: bool = False  # the turn asks the viewer something instead of recommending
    mode: Literal["offline", "llm"] = "offline"
    # An LLM is configured but this turn was answered without it, or the engine's picks came from its
    # fallback (the title index away, or no ranker).
    degraded: bool = False
    notice: str | None = None  # why it was degraded, in words for the viewer
    invented: int = 0  # titles the LLM named that are not in the catalog, dropped
    tool_calls: int = 0
    conversation_id: str = ""


class Composer:
    """A reply's text as it is written: each piece goes to `emit` the moment it is added, so a streamed
    reply's first words leave before the rest of it is composed."""

    def __init__(self, emit: Emit | None = None) -> None:
        self._emit = emit
        self.text = ""

    def write(self, piece: str) -> None:
        self.text += piece
        if self._emit is not None and piece:
            self._emit(piece)

    def finish(self, reply: Reply) -> Reply:
        """The reply, once whatever of its text was not written piece by piece has been sent too."""
        if not reply.text.startswith(self.text):  # a bug: the client already read something else
            raise ValueError(f"the reply does not begin with the text already sent: {self.text[:60]!r}")
        self.write(reply.text[len(self.text) :])
        return reply
