"""OpenAI-compatible chat bodies, plus the `marquee` extension that carries the picks as cards."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.models import Artwork
from assistant import TitleCard

MAX_MESSAGES = 100
MAX_CHARS = 4000


def _encodable(text: str | None) -> str | None:
    """Refuse lone surrogates ("\\ud800" in JSON): not text, and nothing downstream can encode them."""
    if text is not None:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"not valid Unicode text (a lone surrogate at character {exc.start})") from None
    return text


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str
    text: str | None = Field(None, max_length=MAX_CHARS)

    _text_is_unicode = field_validator("text")(_encodable)


class ChatMessage(BaseModel):
    # OpenAI clients send fields we have no use for (name, tool_calls, ...): ignored, not refused.
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    @field_validator("content")
    @classmethod
    def _bounded(cls, content: str | list[ContentPart] | None) -> str | list[ContentPart] | None:
        if isinstance(content, str) and len(content) > MAX_CHARS:
            raise ValueError(f"a message holds at most {MAX_CHARS} characters")
        if isinstance(content, str):
            _encodable(content)
        return content

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's chat.completions request. Sampling parameters are accepted and ignored; `profile_id` and
    `conversation_id` (or the X-Marquee-Profile / X-Marquee-Conversation headers) say whose chat it is."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(examples=["marquee-offline"])
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    profile_id: str | None = Field(None, min_length=1, max_length=64)
    conversation_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[\w.-]+$")


class ChatCard(TitleCard):
    artwork: Artwork


class MarqueeExtension(BaseModel):
    conversation_id: str
    profile_id: str
    mode: Literal["offline", "llm"]
    degraded: bool
    notice: str | None
    question: bool
    titles: list[ChatCard]
    invented_titles: int = Field(description="titles the model named that are not in the catalog, dropped")


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    marquee: MarqueeExtension


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "marquee"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


def chunk(
    completion_id: str, created: int, model: str, delta: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """One `chat.completion.chunk` of a streamed answer."""
    finish = extra.pop("finish_reason", None)
    body = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return body | extra
