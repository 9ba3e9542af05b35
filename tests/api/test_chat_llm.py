"""The chat route with a language model configured (the scripted server on 127.0.0.1): `marquee-offline`
still means offline, a hung model costs one turn and then none, a streamed reply leaves token by token
over a real HTTP server, and a client that disconnects cancels the turn."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant import Assistant
from engine.breaker import BreakerState
from engine.config import LLMSettings
from tests.api.conftest import Signup, signup_at
from tests.assistant.openai_stub import Answer, ChatRequest, OpenAIStub, hang, plan

pytestmark = pytest.mark.slow

SENTENCES = " ".join(f"Sentence number {i} of a reply that the model writes slowly." for i in range(6))


@pytest.fixture(scope="module")
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as s:
        yield s


def connect(app: FastAPI, stub: OpenAIStub, **overrides: Any) -> Assistant:
    """The app's assistant, now answering with the scripted model."""
    helper: Assistant = app.state.assistant
    settings = {"base_url": stub.base_url, "model": "scripted", "timeout_s": 10, "retries": 0}
    helper.connect(LLMSettings(**{**settings, **overrides}))
    helper.warm_up()
    return helper


def body(profile: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"profile_id": profile, "messages": [{"role": "user", "content": text}], **extra}


def slow_writer(request: ChatRequest) -> Answer:
    if not request.stream:
        return plan(request, action="recommend", genres=["Comedy"])
    return Answer(content=SENTENCES, piece_delay_s=0.03, piece_chars=6)


def test_marquee_offline_and_a_hung_model(client: TestClient, signup: Signup, stub: OpenAIStub) -> None:
    headers, profile = signup()
    client.get("/v1/models", headers=headers)  # makes the app's assistant
    helper = connect(client.app, stub, timeout_s=0.5, turn_budget_s=3)  # type: ignore[arg-type]
    stub.run(lambda request: hang())
    assert client.get("/v1/models", headers=headers).json()["data"][1]["id"] == "scripted"

    offline = client.post(
        "/v1/chat/completions", headers=headers, json=body(profile, "a comedy", model="marquee-offline")
    )
    marquee = offline.json()["marquee"]
    assert marquee["mode"] == "offline" and not marquee["degraded"] and marquee["titles"]
    assert stub.requests == []  # chosen offline: the model was never asked

    first = client.post(
        "/v1/chat/completions", headers=headers, json=body(profile, "a comedy", model="scripted")
    )
    assert first.json()["marquee"]["degraded"] and len(stub.requests) == 1
    assert helper.agent.client.breaker.state is BreakerState.OPEN  # type: ignore[union-attr]
    conversation = first.json()["marquee"]["conversation_id"]
    second = client.post(
        "/v1/chat/completions",
        headers=headers,
        json=body(profile, "a drama", model="scripted", conversation_id=conversation),
    )
    assert second.status_code == 200 and second.json()["marquee"]["degraded"]
    assert "skipped for another" in second.json()["choices"][0]["message"]["content"]
    assert len(stub.requests) == 1  # the open breaker answered without the model
    helper.connect(None)


def test_a_streamed_reply_leaves_as_the_model_writes_it(app: FastAPI, served: str, stub: OpenAIStub) -> None:
    with httpx.Client(base_url=served, timeout=60) as http:
        headers, profile = signup_at(http)
        connect(app, stub)
        stub.run(slow_writer)
        arrivals: list[float] = []
        text = []
        payload = body(profile, "a comedy please", model="scripted", stream=True)
        with http.stream("POST", "/v1/chat/completions", headers=headers, json=payload) as response:
            for line in response.iter_lines():
                if not line.startswith("data: {"):
                    continue
                delta = json.loads(line[6:])["choices"][0]["delta"]
                if delta.get("content"):
                    arrivals.append(time.monotonic())
                    text.append(delta["content"])
        app.state.assistant.connect(None)
    sent = stub.model.sent
    assert "".join(text).startswith("Sentence number 0") and len(arrivals) > 10
    assert arrivals[0] < sent[-1]  # the first chunk was read before the model wrote its last piece
    assert arrivals[-1] - arrivals[0] >= 0.03 * (len(sent) - 1) / 2  # spread over the writing, not a burst


def test_a_client_that_disconnects_cancels_the_turn(app: FastAPI, served: str, stub: OpenAIStub) -> None:
    with httpx.Client(base_url=served, timeout=60) as http:
        headers, profile = signup_at(http)
        helper = connect(app, stub)
        stub.run(slow_writer)
        payload = body(profile, "a comedy please", model="scripted", stream=True, conversation_id="gone-1")
        with http.stream("POST", "/v1/chat/completions", headers=headers, json=payload) as response:
            for line in response.iter_lines():
                if '"content": "Sen' in line:
                    break  # the viewer closes the tab at the first words
        for _ in range(200):
            if stub.model.aborted:
                break
            time.sleep(0.05)
        assert stub.model.aborted == 1  # the model's stream was closed, not read to its end
        assert helper.store.get("gone-1", profile) is None  # and nothing of the turn was kept
        helper.connect(None)
