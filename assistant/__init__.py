"""The assistant: dialogue state, typed tools over the engine, the LLM agent and the offline policy."""

from assistant.llm_client import TurnCancelled
from assistant.llm_style import Style
from assistant.reply import Reply
from assistant.service import Assistant
from assistant.tools import TitleCard, Viewer

__all__ = ["Assistant", "Reply", "Style", "TitleCard", "TurnCancelled", "Viewer"]
