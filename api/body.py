"""The request body's gate, before any handler: size, read time and text that cannot be encoded.

The body is read here (at most limit + 1 bytes, within `timeout_s`) and replayed, so an oversize, slow or
unencodable request is refused before any handler sees it; bodies are small JSON, so buffering them
costs nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors

# A JSON escape of a UTF-16 surrogate: the only way a JSON body can carry a lone one (raw bytes of one are
# invalid UTF-8, which the JSON parser refuses already).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class BodyGate:
    """413 for a body over `limit` bytes (whether or not the client sent Content-Length), 408 for one not
    received within `timeout_s`, 422 naming the field for a JSON string that is not valid Unicode (a lone
    surrogate): it could be neither stored nor sent back."""

    def __init__(self, app: ASGIApp, limit: int, timeout_s: float) -> None:
        self.app = app
        self.limit = limit
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send, 413, f"request body over {self.limit} bytes")
            return
        chunks: list[bytes] = []
        size, more, gone = 0, True, False
        with anyio.move_on_after(self.timeout_s) as timer:
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    gone = True  # the client went away; let the app see the disconnect
                    break
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                more = message.get("more_body", False)
                if size > self.limit:
                    await self._refuse(scope, receive, send, 413, f"request body over {self.limit} bytes")
                    return
        if timer.cancelled_caught:
            message = f"request body not received within {self.timeout_s:g} s"
            await self._refuse(scope, receive, send, 408, message, headers={"Connection": "close"})
            return
        body, replayed = b"".join(chunks), False
        where = None if gone else unencodable_field(body)
        if where is not None:
            await self._refuse(scope, receive, send, 422, f"{where}: text is not valid Unicode", field=where)
            return

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        message: str,
        *,
        field: str = "body",
        headers: dict[str, str] | None = None,
    ) -> None:
        response = errors.error_response(status, message, field=field, headers=headers)
        await response(scope, receive, send)


def unencodable_field(body: bytes) -> str | None:
    """Where (e.g. "messages.0.content") a JSON body holds a string, key or value, that is not valid
    Unicode; None when it holds none or is not JSON (the handler's parser says what is wrong then)."""
    if not _SURROGATE_ESCAPE.search(body):  # the common case costs one scan, no parse
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return _find(parsed, [])


def _find(value: Any, path: list[str]) -> str | None:
    if isinstance(value, str):
        return None if _encodes(value) else ".".join(path) or "body"
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not _encodes(key):
                return ".".join([*path, key.encode("utf-8", "replace").decode()]) or "body"
            items.append((key, item))
    elif isinstance(value, list):
        items = [(str(i), item) for i, item in enumerate(value)]
    for key, item in items:
        found = _find(item, [*path, key])
        if found is not None:
            return found
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
