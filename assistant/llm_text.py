"""What a model wrote as text: tool calls it wrote out instead of making, and code it must not show.

Small local models (and servers whose chat template has no tool-call parser, such as llama.cpp's default)
return calls as text: a ```json block, bare JSON, `<tool_call>` tags, or `functions.name:{...}`. Those are
recovered and executed as calls. Whatever still looks like code or JSON after that is not an answer a
viewer should read: the caller degrades the turn instead of showing it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_DECODER = json.JSONDecoder(strict=False)
_FUNCTIONS = re.compile(r"functions\.(?P<name>[A-Za-z_]\w*)\s*[:(]?\s*")
_TAGGED = re.compile(r"<tool_call>(?P<body>.*?)(?:</tool_call>|$)", re.DOTALL)
_FENCE = re.compile(r"```[\w-]*\s*(?P<body>.*?)(?:```|$)", re.DOTALL)
# The start of a line that is code, not prose: a fence, a brace, a tag, a call, a quoted key.
_CODE_LINE = re.compile(r"""^\s*(```|[{\[]|<\/?\w+[^>]*>|functions\.\w+|"\w+"\s*:|\w+\(\s*[{"])""")


@dataclass(frozen=True)
class TextCall:
    name: str
    arguments: dict[str, Any]


def recover_calls(text: str, known: set[str]) -> list[TextCall]:
    """The calls to `known` tools written in `text`, in order; [] when it holds none."""
    found: list[TextCall] = []
    for m in _FUNCTIONS.finditer(text):
        value = _json_at(text, m.end())
        if isinstance(value, dict) and m.group("name") in known:
            found.append(TextCall(m.group("name"), value))
    if found:
        return found
    for value in json_values(text):
        for item in value if isinstance(value, list) else [value]:
            call = _as_call(item, known)
            if call is not None:
                found.append(call)
    return found


def json_values(text: str) -> list[Any]:
    """The JSON values a model wrote: inside <tool_call> tags, inside code fences, or bare in the text."""
    bodies = [m.group("body") for m in _TAGGED.finditer(text)] or [
        m.group("body") for m in _FENCE.finditer(text)
    ]
    values: list[Any] = []
    for body in bodies or [text]:
        i = 0
        while i < len(body):
            start = _next_open(body, i)
            if start < 0:
                break
            try:
                value, end = _DECODER.raw_decode(body, start)
            except json.JSONDecodeError:
                i = start + 1
                continue
            values.append(value)
            i = end
    return values


def first_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in `text` (fenced, tagged or bare), or None."""
    return next((v for v in json_values(text) if isinstance(v, dict)), None)


def looks_like_code(text: str) -> bool:
    """True when a reply is (or holds) code or JSON rather than prose for a viewer."""
    if "```" in text or "<tool_call>" in text or _FUNCTIONS.search(text):
        return True
    return any(code_line(line) for line in text.splitlines())


def code_line(line: str) -> bool:
    return bool(_CODE_LINE.match(line))


def _as_call(item: Any, known: set[str]) -> TextCall | None:
    """{"name": n, "arguments": {...}} and the shapes models use for it ("function", "parameters", ...)."""
    if not isinstance(item, dict):
        return None
    inner = item.get("function")
    if isinstance(inner, dict):
        return _as_call(inner, known)
    name = item.get("name") or item.get("tool") or item.get("function")
    args = next((item[k] for k in ("arguments", "parameters", "args", "input") if k in item), {})
    if isinstance(args, str):
        try:
            args = json.loads(args, strict=False)
        except json.JSONDecodeError:
            return None
    if isinstance(name, str) and name in known and isinstance(args, dict):
        return TextCall(name, args)
    return None


def _json_at(text: str, start: int) -> Any:
    try:
        return _DECODER.raw_decode(text, start)[0]
    except json.JSONDecodeError:
        return None


def _next_open(text: str, start: int) -> int:
    hits = [i for i in (text.find("{", start), text.find("[", start)) if i >= 0]
    return min(hits) if hits else -1
