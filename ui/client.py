"""A typed client of the Marquee HTTP API: the only way the UI reaches the recommender.

Responses become small frozen dataclasses here, so the pages never touch raw JSON. Errors become one
exception, `ApiError`, carrying the API's `{"error": {"type", "message", "field"}}` body.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

FALLBACK_MODEL = "marquee-offline"


class ApiError(Exception):
    """The API answered with an error, or could not be reached (`status` 0)."""

    def __init__(self, status: int, message: str, *, type: str = "error", field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.field = field


@dataclass(frozen=True)
class Artwork:
    variant: str
    url: str


@dataclass(frozen=True)
class Card:
    """A title as a card shows it: what it is, why it is here, which artwork."""

    title_id: int
    name: str
    year: int | None
    explanation: str
    artwork: Artwork
    genres: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    id: str
    heading: str
    kind: str
    items: tuple[Card, ...]


@dataclass(frozen=True)
class Page:
    rows: tuple[Row, ...]
    variant: str | None
    degraded: bool


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    maturity_limit: str | None
    region: str


@dataclass(frozen=True)
class Title:
    id: int
    name: str
    year: int | None
    genres: tuple[str, ...]
    overview: str
    runtime: int | None
    maturity: str | None
    directors: tuple[str, ...]
    cast: tuple[str, ...]
    artwork: tuple[Artwork, ...]


@dataclass(frozen=True)
class ChatMeta:
    """The `marquee` extension of a chat completion: the conversation and the titles it recommends."""

    conversation_id: str | None
    mode: str
    degraded: bool
    notice: str | None
    titles: tuple[Card, ...] = ()


@dataclass(frozen=True)
class ChatReply:
    text: str
    meta: ChatMeta


@dataclass
class Event:
    """One feedback event; `event_id` is unique per click, so a retried request is stored once."""

    kind: str
    title_id: int
    value: float | None = None
    row: str | None = None
    artwork: str | None = None
    context: dict[str, str | int | float] = field(default_factory=dict)
    event_id: str = field(default_factory=lambda: f"ui-{uuid.uuid4().hex}")

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event_id": self.event_id, "title_id": self.title_id, "kind": self.kind}
        for key in ("value", "row", "artwork"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.context:
            out["context"] = self.context
        return out


def _artwork(raw: dict[str, Any]) -> Artwork:
    return Artwork(variant=str(raw["variant"]), url=str(raw["url"]))


def _card(raw: dict[str, Any]) -> Card:
    return Card(
        title_id=int(raw["title_id"]),
        name=str(raw["name"]),
        year=raw.get("year"),
        explanation=str(raw.get("explanation") or ""),
        artwork=_artwork(raw["artwork"]),
        genres=tuple(raw.get("genres") or ()),
    )


def _profile(raw: dict[str, Any]) -> Profile:
    return Profile(
        id=raw["id"], name=raw["name"], maturity_limit=raw.get("maturity_limit"), region=raw["region"]
    )


def _meta(raw: dict[str, Any] | None) -> ChatMeta:
    raw = raw or {}
    return ChatMeta(
        conversation_id=raw.get("conversation_id"),
        mode=str(raw.get("mode") or "unknown"),
        degraded=bool(raw.get("degraded", False)),
        notice=raw.get("notice"),
        titles=tuple(_card(t) for t in raw.get("titles") or ()),
    )


def _error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()["error"]
        return ApiError(response.status_code, body["message"], type=body["type"], field=body.get("field"))
    except (ValueError, KeyError, TypeError):
        text = response.text[:200] or response.reason_phrase
        return ApiError(response.status_code, f"HTTP {response.status_code}: {text}")


class MarqueeClient:
    """Calls the API with one key. `transport` lets tests answer without a server."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    # -- plumbing ---------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key} if self.api_key else {}

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, headers=self._headers(), **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(
                0, f"cannot reach the Marquee API at {self.base_url}: {exc}", type="unreachable"
            ) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response

    def absolute(self, url: str) -> str:
        """The API's URLs are relative to it (artwork); this makes them fetchable from anywhere."""
        return url if url.startswith(("http://", "https://")) else f"{self.base_url}{url}"

    # -- accounts and profiles --------------------------------------------------------------------

    def ready(self) -> bool:
        try:
            return self._http.get("/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def version(self) -> str | None:
        """The API's `marquee --version` (from /livez), or None when it cannot be reached."""
        try:
            response = self._http.get("/livez")
        except httpx.HTTPError:
            return None
        return response.json().get("version") if response.status_code == 200 else None

    def create_account(self, name: str = "Marquee UI") -> str:
        """A new account; its key is used from now on and returned (the API shows it only once)."""
        self.api_key = self._call("POST", "/v1/accounts", json={"name": name}).json()["api_key"]
        return self.api_key

    def profiles(self) -> list[Profile]:
        return [_profile(p) for p in self._call("GET", "/v1/profiles").json()["profiles"]]

    def create_profile(self, name: str, *, maturity_limit: str | None = None) -> Profile:
        body: dict[str, Any] = {"name": name}
        if maturity_limit:
            body["maturity_limit"] = maturity_limit
        return _profile(self._call("POST", "/v1/profiles", json=body).json())

    def onboarding(self, profile_id: str, *, genres: Sequence[str], titles: Sequence[int]) -> list[int]:
        body = {"genres": list(genres), "titles": list(titles)}
        return self._call("POST", f"/v1/profiles/{profile_id}/onboarding", json=body).json()["titles"]

    # -- what a profile sees ----------------------------------------------------------------------

    def rows(self, profile_id: str, *, device: str | None = None) -> Page:
        params = {"device": device} if device else {}
        raw = self._call("GET", f"/v1/profiles/{profile_id}/rows", params=params).json()
        rows = tuple(
            Row(r["id"], r["heading"], r["kind"], tuple(_card(i) for i in r["items"])) for r in raw["rows"]
        )
        return Page(rows=rows, variant=raw.get("variant"), degraded=bool(raw.get("degraded")))

    def search(self, profile_id: str, query: str, *, k: int = 12) -> list[Card]:
        params = {"q": query, "k": k}
        raw = self._call("GET", f"/v1/profiles/{profile_id}/search", params=params).json()
        return [_card(p) for p in raw["results"]]

    def recommendations(self, profile_id: str, *, k: int = 10) -> list[Card]:
        """One ranked list (no rows); each pick carries its genres."""
        raw = self._call("GET", f"/v1/profiles/{profile_id}/recommendations", params={"k": k}).json()
        return [_card(p) for p in raw["results"]]

    def similar(self, title_id: int, *, profile_id: str | None = None, k: int = 12) -> list[Card]:
        params: dict[str, Any] = {"k": k}
        if profile_id:
            params["profile_id"] = profile_id
        raw = self._call("GET", f"/v1/titles/{title_id}/similar", params=params).json()
        return [_card(p) for p in raw["results"]]

    def title(self, title_id: int) -> Title:
        raw = self._call("GET", f"/v1/titles/{title_id}").json()
        return Title(
            id=raw["id"],
            name=raw["name"],
            year=raw.get("year"),
            genres=tuple(raw.get("genres") or ()),
            overview=raw.get("overview") or "",
            runtime=raw.get("runtime"),
            maturity=raw.get("maturity"),
            directors=tuple(raw.get("directors") or ()),
            cast=tuple(raw.get("cast") or ()),
            artwork=tuple(_artwork(a) for a in raw.get("artwork") or ()),
        )

    def artwork_svg(self, url: str) -> str:
        """The SVG text of one artwork image (no key needed; the same for every user)."""
        return self._call("GET", self.absolute(url)).text

    def send_events(self, profile_id: str, events: Sequence[Event]) -> int:
        """Post events in batches of at most 500; returns how many were newly stored."""
        stored = 0
        for start in range(0, len(events), 500):
            batch = [e.body() for e in events[start : start + 500]]
            response = self._call("POST", f"/v1/profiles/{profile_id}/events", json={"events": batch})
            stored += int(response.json()["stored"])
        return stored

    # -- the assistant (OpenAI-compatible chat completions with a `marquee` extension) -------------

    def models(self) -> list[str]:
        try:
            return [m["id"] for m in self._call("GET", "/v1/models").json()["data"]]
        except (ApiError, KeyError, TypeError, ValueError):
            return []

    def _chat_body(
        self, profile_id: str, messages: Sequence[dict[str, str]], conversation_id: str | None, model: str
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": list(messages), "profile_id": profile_id}
        if conversation_id:
            body["conversation_id"] = conversation_id
        return body

    def chat(
        self,
        profile_id: str,
        messages: Sequence[dict[str, str]],
        *,
        conversation_id: str | None = None,
        model: str = FALLBACK_MODEL,
    ) -> ChatReply:
        body = self._chat_body(profile_id, messages, conversation_id, model) | {"stream": False}
        raw = self._call("POST", "/v1/chat/completions", json=body).json()
        text = raw["choices"][0]["message"].get("content") or ""
        return ChatReply(text=text, meta=_meta(raw.get("marquee")))

    def chat_stream(
        self,
        profile_id: str,
        messages: Sequence[dict[str, str]],
        *,
        conversation_id: str | None = None,
        model: str = FALLBACK_MODEL,
    ) -> Iterator[str | ChatMeta]:
        """The reply as it is generated: text pieces, then one `ChatMeta` at the end."""
        body = self._chat_body(profile_id, messages, conversation_id, model) | {"stream": True}
        try:
            with self._http.stream(
                "POST", "/v1/chat/completions", json=body, headers=self._headers()
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error(response)
                if not response.headers.get("content-type", "").startswith("text/event-stream"):
                    response.read()  # a server that does not stream answers with the whole completion
                    raw = response.json()
                    yield raw["choices"][0]["message"].get("content") or ""
                    yield _meta(raw.get("marquee"))
                    return
                yield from _sse(response.iter_lines())
        except httpx.HTTPError as exc:
            raise ApiError(
                0, f"the chat stream from {self.base_url} broke off: {exc}", type="unreachable"
            ) from exc


def _sse(lines: Iterator[str]) -> Iterator[str | ChatMeta]:
    """`data: {chunk}` lines up to `data: [DONE]`; the `marquee` object may ride on any chunk."""
    meta: ChatMeta | None = None
    for line in lines:
        if not line.startswith("data:"):
            continue  # blank separators, comments (": ping"), event names
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            break
        chunk = json.loads(data)
        if "error" in chunk:
            err = chunk["error"]
            raise ApiError(500, str(err.get("message", err)), type=str(err.get("type", "error")))
        for choice in chunk.get("choices") or ():
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                yield piece
        if chunk.get("marquee") is not None:
            meta = _meta(chunk["marquee"])
    yield meta or _meta(None)
