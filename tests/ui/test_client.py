"""The typed API client against scripted answers: chat streaming (SSE), errors, events. No server."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from ui.client import ApiError, ChatMeta, Event, MarqueeClient

MARQUEE = {
    "conversation_id": "c-1",
    "profile_id": "p-1",
    "mode": "offline",
    "degraded": False,
    "notice": None,
    "titles": [
        {
            "title_id": 1,
            "name": "Toy Story",
            "year": 1995,
            "explanation": "Matches “animated”",
            "artwork": {"variant": "title_card", "url": "/v1/titles/1/artwork/title_card.svg"},
        }
    ],
}


def client(handler: Callable[[httpx.Request], httpx.Response]) -> MarqueeClient:
    return MarqueeClient("http://api.test", "mq_key", transport=httpx.MockTransport(handler))


def sse(*events: object) -> bytes:
    lines = [": keep-alive\n\n"]
    lines += [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    return "".join(lines).encode()


def chunk(delta: dict[str, str], finish: str | None = None, **extra: object) -> dict[str, object]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"object": "chat.completion.chunk", "choices": [choice], **extra}


def test_a_streamed_reply_comes_in_pieces_then_its_marquee_extension() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content) | {"key": request.headers["X-API-Key"]})
        body = sse(
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Try "}),
            chunk({"content": "**Toy Story**."}),
            chunk({}, "stop", marquee=MARQUEE),
            "[DONE]",
            chunk({"content": "after done: never read"}),
        )
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    out = list(
        client(handler).chat_stream("p-1", [{"role": "user", "content": "hi"}], model="marquee-offline")
    )
    assert out[:-1] == ["Try ", "**Toy Story**."]
    meta = out[-1]
    assert isinstance(meta, ChatMeta)
    assert (meta.conversation_id, meta.mode, meta.degraded) == ("c-1", "offline", False)
    assert [(t.title_id, t.name, t.artwork.variant) for t in meta.titles] == [(1, "Toy Story", "title_card")]
    assert seen == [
        {
            "model": "marquee-offline",
            "messages": [{"role": "user", "content": "hi"}],
            "profile_id": "p-1",
            "stream": True,
            "key": "mq_key",
        }
    ]


def test_later_turns_name_the_conversation() -> None:
    bodies: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        done = sse(chunk({"content": "ok"}), chunk({}, "stop", marquee=MARQUEE), "[DONE]")
        return httpx.Response(200, content=done, headers={"content-type": "text/event-stream"})

    list(client(handler).chat_stream("p-1", [{"role": "user", "content": "more"}], conversation_id="c-1"))
    assert bodies[0]["conversation_id"] == "c-1"


def test_a_server_that_does_not_stream_still_gives_text_and_cards() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        message = {"role": "assistant", "content": "Toy Story."}
        completion = {"object": "chat.completion", "choices": [{"index": 0, "message": message}]}
        return httpx.Response(200, json=completion | {"marquee": MARQUEE})

    out = list(client(handler).chat_stream("p-1", [{"role": "user", "content": "hi"}]))
    assert out[0] == "Toy Story."
    assert isinstance(out[1], ChatMeta) and out[1].titles[0].title_id == 1
    reply = client(handler).chat("p-1", [{"role": "user", "content": "hi"}])
    assert reply.text == "Toy Story." and reply.meta.conversation_id == "c-1"


def test_errors_carry_the_apis_message_and_field() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        error = {"type": "not_found", "message": "no profile 'x'", "field": "profile_id"}
        return httpx.Response(404, json={"error": error})

    with pytest.raises(ApiError) as raised:
        list(client(handler).chat_stream("x", [{"role": "user", "content": "hi"}]))
    assert (raised.value.status, raised.value.type, raised.value.field) == (404, "not_found", "profile_id")
    assert raised.value.message == "no profile 'x'"
    with pytest.raises(ApiError, match="no profile"):
        client(handler).rows("x")


def test_an_error_inside_the_stream_is_raised() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = sse(chunk({"content": "Hal"}), {"error": {"message": "the model went away", "type": "server"}})
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    pieces = client(handler).chat_stream("p-1", [{"role": "user", "content": "hi"}])
    assert next(pieces) == "Hal"
    with pytest.raises(ApiError, match="the model went away"):
        next(pieces)


def test_an_unreachable_api_is_one_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ApiError, match="cannot reach the Marquee API at http://api.test") as raised:
        client(handler).profiles()
    assert raised.value.status == 0


def test_events_get_unique_ids_and_go_in_batches_of_500() -> None:
    batches: list[list[dict[str, object]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        events = json.loads(request.content)["events"]
        batches.append(events)
        return httpx.Response(200, json={"results": [], "stored": len(events), "duplicates": 0})

    events = [Event("impression", t, row="top_picks", artwork="mood") for t in range(1203)]
    assert client(handler).send_events("p-1", events) == 1203
    assert [len(b) for b in batches] == [500, 500, 203]
    sent = [e for b in batches for e in b]
    assert len({e["event_id"] for e in sent}) == 1203
    assert sent[0] == {
        "event_id": events[0].event_id,
        "title_id": 0,
        "kind": "impression",
        "row": "top_picks",
        "artwork": "mood",
    }


def test_artwork_urls_are_resolved_against_the_api() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "X-API-Key" in request.headers
        return httpx.Response(200, text=f"<svg>{request.url.path}</svg>")

    api = client(handler)
    assert api.absolute("/v1/titles/1/artwork/mood.svg") == "http://api.test/v1/titles/1/artwork/mood.svg"
    assert api.artwork_svg("/v1/titles/1/artwork/mood.svg") == "<svg>/v1/titles/1/artwork/mood.svg</svg>"
