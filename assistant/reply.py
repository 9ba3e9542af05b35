"""One assistant turn's answer, the same shape whichever driver produced it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.tools import TitleCard


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
