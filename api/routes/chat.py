"""The assistant over HTTP, OpenAI-compatible: POST /v1/chat/completions (streamed or not), GET /v1/models.

The official `openai` client works against it unchanged: the API key goes as its bearer token, and the
profile and conversation as `extra_body` fields or X-Marquee-* headers; `model: "marquee-offline"` always
chooses the offline policy. The reply's picks come back as cards in the `marquee` extension field.

A streamed reply is sent as it is written: the turn runs in a worker thread and every piece it emits
(the LLM's tokens, already grounded title by title; the offline policy's text as composed) goes out as a
`chat.completion.chunk` at once; the cards follow in the last chunk. A client that disconnects, streamed
or not, cancels the turn: its remaining model calls are dropped and nothing of it is saved. System
messages are read for tone, length and language only (`assistant.Style`).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from api.assistants import assistant
from api.auth import AccountId
from api.chat_models import (
    AssistantMessage,
    ChatCard,
    ChatCompletion,
    ChatRequest,
    Choice,
    MarqueeExtension,
    ModelList,
    ModelOut,
    Usage,
    chunk,
)
from api.errors import ApiError, not_found
from api.models import ErrorOut
from api.runtime import Runtime, RuntimeDep
from api.views import DEFAULT_VARIANT, artwork
from assistant import Reply, Style, Viewer
from engine import new_id

router = APIRouter(prefix="/v1", tags=["chat"])
ERRORS = {c: {"model": ErrorOut} for c in (401, 404, 422, 429, 503)}
_PIECE = re.compile(r"\S+\s*|\s+")
WATCH_S = 0.2  # how often a waiting request checks that its client is still there
CLIENT_GONE = 499  # nginx's code for a request its client abandoned: nobody reads it
_turns: set[asyncio.Task[None]] = set()  # turns in flight, held so that none is collected mid-turn


@router.get("/models", response_model=ModelList, responses=ERRORS)
def models(request: Request, rt: RuntimeDep, _: AccountId) -> ModelList:
    """The model ids /v1/chat/completions answers to."""
    built = datetime.fromisoformat(rt.ready_engine().health().built)
    created = int(built.timestamp())
    return ModelList(data=[ModelOut(id=m, created=created) for m in assistant(request, rt).models])


@router.post("/chat/completions", response_model=ChatCompletion, responses=ERRORS)
async def chat(
    body: ChatRequest,
    request: Request,
    rt: RuntimeDep,
    account_id: AccountId,
    x_marquee_profile: Annotated[str | None, Header(max_length=64)] = None,
    x_marquee_conversation: Annotated[str | None, Header(max_length=64, pattern=r"^[\w.-]+$")] = None,
) -> ChatCompletion | Response:
    """One assistant turn on the last user message; the picks come back as cards in `marquee.titles`."""
    helper = await run_in_threadpool(assistant, request, rt)
    if body.model not in helper.models:
        raise ApiError(404, f"unknown model {body.model!r}; valid: {', '.join(helper.models)}", field="model")
    profile_id = await run_in_threadpool(_profile, rt, account_id, body.profile_id or x_marquee_profile)
    conversation_id = body.conversation_id or x_marquee_conversation
    said = [m.text() for m in body.messages if m.role == "user"]
    if body.messages[-1].role != "user" or not said[-1].strip():
        raise ApiError(422, "the last message must be a non-empty user message", field="messages")
    style = Style.read([m.text() for m in body.messages if m.role in ("system", "developer")])
    earlier = said[:-1] if conversation_id is None else []
    viewer = Viewer.stored(rt.ready_engine(), profile_id)
    loop = asyncio.get_running_loop()
    pieces: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    cancel = threading.Event()

    def put(kind: str, item: Any) -> None:
        loop.call_soon_threadsafe(pieces.put_nowait, (kind, item))

    def work() -> None:
        try:
            # Ids are the profile's own: another profile's same id is neither read nor told of.
            reply = helper.respond(
                viewer,
                said[-1],
                conversation_id=conversation_id,
                earlier=earlier,
                model=body.model,
                style=style,
                cancel=cancel,
                emit=(lambda piece: put("text", piece)) if body.stream else None,
            )
        except BaseException as exc:  # handed to the request, to fail as any route would
            put("error", exc)
        else:
            put("done", reply)

    # The turn runs on the app's thread pool whether or not this request is still waiting for it.
    task = asyncio.create_task(run_in_threadpool(work))
    _turns.add(task)
    task.add_done_callback(_turns.discard)
    first = await _next(pieces, request, cancel)
    if first is None:  # the turn stops at its next check (a model call in flight, at its timeout)
        return Response(status_code=CLIENT_GONE)
    if first[0] == "error":
        raise first[1]

    def finish(reply: Reply) -> ChatCompletion:
        rt.metrics.chat_turns.labels(reply.mode, str(reply.degraded).lower()).inc()
        return _completion(body.model, profile_id, reply, prompt=" ".join(said))

    if not body.stream:
        return finish(first[1])
    return StreamingResponse(
        _stream(body.model, first, pieces, request, cancel, finish), media_type="text/event-stream"
    )


async def _next(
    pieces: asyncio.Queue[tuple[str, Any]], request: Request, cancel: threading.Event
) -> tuple[str, Any] | None:
    """The turn's next output, or None (and the turn cancelled) when the client went away waiting."""
    while True:
        try:
            return await asyncio.wait_for(pieces.get(), WATCH_S)
        except TimeoutError:
            if await request.is_disconnected():
                cancel.set()
                return None


async def _stream(
    model: str,
    first: tuple[str, Any],
    pieces: asyncio.Queue[tuple[str, Any]],
    request: Request,
    cancel: threading.Event,
    finish: Callable[[Reply], ChatCompletion],
) -> AsyncIterator[str]:
    head = (f"chatcmpl-{new_id()}", int(time.time()), model)
    started = False
    item: tuple[str, Any] | None = first
    try:
        while item is not None:
            kind, value = item
            if not started:
                started = True
                yield _event(chunk(*head, {"role": "assistant", "content": ""}))
            if kind == "text":
                for piece in _split(value):
                    yield _event(chunk(*head, {"content": piece}))
            elif kind == "done":
                completion = finish(value)
                yield _event(
                    chunk(
                        *head,
                        {},
                        finish_reason="stop",
                        usage=completion.usage.model_dump(),
                        marquee=completion.marquee.model_dump(),
                    )
                )
                yield "data: [DONE]\n\n"
                return
            else:  # the turn failed after the stream began: say so in the stream, as OpenAI does
                yield _event(
                    {
                        "error": {
                            "message": "the assistant failed to finish this reply",
                            "type": "server_error",
                        }
                    }
                )
                return
            item = await _next(pieces, request, cancel)
    finally:
        cancel.set()  # the client left (or the turn is over): no more work for it


def _event(body: dict[str, object]) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _split(text: str) -> list[str]:
    """A few words per event: a token stays one event, a composed paragraph becomes several."""
    words = _PIECE.findall(text)
    return ["".join(words[start : start + 4]) for start in range(0, len(words), 4)]


def _profile(rt: Runtime, account_id: str, profile_id: str | None) -> str:
    """The request's profile, which must be the key's own; an account with one profile may omit it."""
    store = rt.ready_engine().accounts()
    if profile_id is None:
        profiles = store.profiles(account_id)
        if len(profiles) != 1:
            raise ApiError(
                422,
                "say which profile is chatting: profile_id in the body or the X-Marquee-Profile header",
                field="profile_id",
            )
        return profiles[0].id
    profile = store.profile(profile_id)
    if profile is None or profile.account_id != account_id:
        raise not_found("profile", profile_id)
    return profile.id


def _completion(model: str, profile_id: str, reply: Reply, *, prompt: str) -> ChatCompletion:
    cards = [
        ChatCard(**card.model_dump(), artwork=artwork(card.title_id, DEFAULT_VARIANT))
        for card in reply.titles
    ]
    # Word counts stand in for tokens: there is no tokenizer behind the offline policy.
    used = Usage(
        prompt_tokens=len(prompt.split()),
        completion_tokens=len(reply.text.split()),
        total_tokens=len(prompt.split()) + len(reply.text.split()),
    )
    return ChatCompletion(
        id=f"chatcmpl-{new_id()}",
        created=int(time.time()),
        model=model,
        choices=[Choice(message=AssistantMessage(content=reply.text))],
        usage=used,
        marquee=MarqueeExtension(
            conversation_id=reply.conversation_id,
            profile_id=profile_id,
            mode=reply.mode,
            degraded=reply.degraded,
            notice=reply.notice,
            question=reply.question,
            titles=cards,
            invented_titles=reply.invented,
        ),
    )
