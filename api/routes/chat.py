"""The assistant over HTTP, OpenAI-compatible: POST /v1/chat/completions (streamed or not), GET /v1/models.

The official `openai` client works against it unchanged: the API key goes as its bearer token, and the
profile and conversation as `extra_body` fields or X-Marquee-* headers. The reply's picks come back as
cards in the `marquee` extension field. A streamed reply is grounded first (titles not in the catalog are
dropped before anything is sent), then sent in pieces as `chat.completion.chunk` events.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

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
from assistant import Assistant, Reply, Viewer
from engine import new_id

router = APIRouter(prefix="/v1", tags=["chat"])
ERRORS = {c: {"model": ErrorOut} for c in (401, 404, 422, 429, 503)}
_assistant_lock = threading.Lock()
_PIECE = re.compile(r"\S+\s*|\s+")


def assistant(request: Request, rt: Runtime) -> Assistant:
    """The app's assistant, made on first use: apps that never chat never load its text model."""
    with _assistant_lock:
        found: Assistant | None = getattr(request.app.state, "assistant", None)
        if found is None or found.engine is not rt.ready_engine():
            found = Assistant.open(rt.ready_engine())
            request.app.state.assistant = found
        return found


@router.get("/models", response_model=ModelList, responses=ERRORS)
def models(request: Request, rt: RuntimeDep, _: AccountId) -> ModelList:
    """The model ids /v1/chat/completions answers to."""
    built = datetime.fromisoformat(rt.ready_engine().manifest.created)
    created = int(built.timestamp())
    return ModelList(data=[ModelOut(id=m, created=created) for m in assistant(request, rt).models])


@router.post("/chat/completions", response_model=ChatCompletion, responses=ERRORS)
def chat(
    body: ChatRequest,
    request: Request,
    rt: RuntimeDep,
    account_id: AccountId,
    x_marquee_profile: Annotated[str | None, Header(max_length=64)] = None,
    x_marquee_conversation: Annotated[str | None, Header(max_length=64, pattern=r"^[\w.-]+$")] = None,
) -> ChatCompletion | StreamingResponse:
    """One assistant turn on the last user message; the picks come back as cards in `marquee.titles`."""
    helper = assistant(request, rt)
    if body.model not in helper.models:
        raise ApiError(404, f"unknown model {body.model!r}; valid: {', '.join(helper.models)}", field="model")
    profile_id = _profile(rt, account_id, body.profile_id or x_marquee_profile)
    conversation_id = body.conversation_id or x_marquee_conversation
    said = [m.text() for m in body.messages if m.role == "user"]
    if body.messages[-1].role != "user" or not said[-1].strip():
        raise ApiError(422, "the last message must be a non-empty user message", field="messages")
    earlier = said[:-1] if conversation_id is None else []
    viewer = Viewer.stored(rt.ready_engine(), profile_id)
    # Ids are the profile's own: another profile's conversation of the same id is neither read nor told of.
    reply = helper.respond(viewer, said[-1], conversation_id=conversation_id, earlier=earlier)
    rt.metrics.chat_turns.labels(reply.mode, str(reply.degraded).lower()).inc()
    completion = _completion(body.model, profile_id, reply, prompt=" ".join(said))
    if not body.stream:
        return completion
    return StreamingResponse(_stream(completion), media_type="text/event-stream")


def _profile(rt: Runtime, account_id: str, profile_id: str | None) -> str:
    """The request's profile, which must be the key's own; an account with one profile may omit it."""
    store = rt.ready_engine().store
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


def _stream(completion: ChatCompletion) -> Iterator[str]:
    def event(body: dict[str, object]) -> str:
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    head = (completion.id, completion.created, completion.model)
    yield event(chunk(*head, {"role": "assistant", "content": ""}))
    text = completion.choices[0].message.content
    pieces = _PIECE.findall(text)
    for start in range(0, len(pieces), 4):  # a few words per event: smooth to read, cheap to send
        yield event(chunk(*head, {"content": "".join(pieces[start : start + 4])}))
    yield event(
        chunk(
            *head,
            {},
            finish_reason="stop",
            usage=completion.usage.model_dump(),
            marquee=completion.marquee.model_dump(),
        )
    )
    yield "data: [DONE]\n\n"
