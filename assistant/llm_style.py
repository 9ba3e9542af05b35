"""What a client's system messages may change about a reply: tone, length and language, nothing else.

A system message is read for these three settings only; its text never reaches a model's prompt, so no
system message can widen the tools, name another profile or lift the grounding rules. The settings
become fixed sentences in the reply writer's prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_TONES = {
    "formal": r"formal|professional|polite",
    "friendly": r"friendly|casual|warm|relaxed",
    "playful": r"playful|funny|witty|humorous|cheeky",
}
_LENGTHS = {
    "short": r"brief|concise|short|terse|succinct|one sentence|few words",
    "long": r"detailed|elaborate|thorough|in depth|long",
}
LANGUAGES = (
    "English", "French", "German", "Spanish", "Italian", "Portuguese", "Dutch", "Swedish", "Polish",
    "Japanese", "Chinese", "Korean",
)  # fmt: skip
_LANGUAGE = re.compile(
    rf"\b(?:in|speak|use|answer in|reply in|respond in)\s+({'|'.join(LANGUAGES)})\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Style:
    tone: Literal["formal", "friendly", "playful"] | None = None
    length: Literal["short", "long"] | None = None
    language: str | None = None

    @classmethod
    def read(cls, instructions: list[str]) -> Style:
        """The allow-listed settings in the client's system messages; later messages win."""
        tone = length = language = None
        for text in instructions:
            lowered = text.lower()
            tone = _first(_TONES, lowered) or tone
            length = _first(_LENGTHS, lowered) or length
            if m := _LANGUAGE.search(text):
                language = m.group(1).capitalize()
        return cls(tone, length, language)  # type: ignore[arg-type]

    def instruction(self) -> str:
        """The settings as sentences for the reply writer; "" when the client set none."""
        parts = []
        if self.tone:
            parts.append(f"Use a {self.tone} tone.")
        if self.length == "short":
            parts.append("Keep each line very short.")
        elif self.length == "long":
            parts.append("Give two sentences on each title.")
        if self.language and self.language != "English":
            parts.append(f"Write in {self.language}; keep the titles as given.")
        return " ".join(parts)


def _first(options: dict[str, str], text: str) -> str | None:
    return next((name for name, words in options.items() if re.search(rf"\b(?:{words})\b", text)), None)


PLAIN = Style()  # no settings: the default reply
