"""The chat endpoint through the official openai client: plain and streamed turns, cards, errors, access."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from assistant import policy
from tests.api.conftest import Signup, signup_at

pytestmark = pytest.mark.slow


def _client(client: TestClient, headers: dict[str, str]) -> openai.OpenAI:
    # TestClient is an httpx.Client: the openai client runs unchanged over the app.
    return openai.OpenAI(
        base_url="http://testserver/v1", api_key=headers["X-API-Key"], http_client=client, max_retries=0
    )


def test_a_turn_answers_with_grounded_cards_that_keep_the_constraints(
    client: TestClient, signup: Signup
) -> None:
    headers, profile = signup()
    oa = _client(client, headers)
    assert "marquee-offline" in [m.id for m in oa.models.list().data]
    answer = oa.chat.completions.create(
        model="marquee-offline",
        messages=[{"role": "user", "content": "a comedy from the 90s, no horror"}],
        extra_body={"profile_id": profile},
    )
    marquee = answer.model_extra["marquee"]
    assert marquee["mode"] == "offline" and not marquee["degraded"] and marquee["profile_id"] == profile
    cards = marquee["titles"]
    assert cards, answer.choices[0].message.content
    for card in cards:
        title = client.get(f"/v1/titles/{card['title_id']}", headers=headers).json()
        assert "Comedy" in title["genres"] and "Horror" not in title["genres"]
        assert 1990 <= title["year"] <= 1999
        assert card["explanation"] and card["name"] in answer.choices[0].message.content
        assert card["artwork"]["url"].endswith(".svg")


def test_streamed_turn_sends_chunks_then_the_cards_then_done(client: TestClient, signup: Signup) -> None:
    headers, profile = signup()
    stream = _client(client, headers).chat.completions.create(
        model="marquee-offline",
        messages=[{"role": "user", "content": "something like Toy Story"}],
        extra_body={"profile_id": profile},
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert len(chunks) > 3 and all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    cards = chunks[-1].model_extra["marquee"]["titles"]
    assert cards and all(card["name"] in text for card in cards)
    raw = client.post(
        "/v1/chat/completions",
        headers=headers,
        json={
            "model": "marquee-offline",
            "stream": True,
            "profile_id": profile,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert raw.text.rstrip().endswith("data: [DONE]")


def test_an_offline_reply_streams_its_first_words_before_the_rest_is_composed(
    served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second title's line is composed only once the client has read the reply's first words: a reply
    # composed whole before it is sent would hold that line until the wait gives up instead.
    read = threading.Event()
    order: list[str] = []
    compose = policy._item

    def item(position: int, card: Any) -> str:
        if position == 2:
            order.append("composer released" if read.wait(timeout=30) else "composer gave up")
        return compose(position, card)

    monkeypatch.setattr(policy, "_item", item)
    text = []
    with httpx.Client(base_url=served, timeout=60) as http:
        headers, profile = signup_at(http)
        payload = {
            "model": "marquee-offline",
            "stream": True,
            "profile_id": profile,
            "messages": [{"role": "user", "content": "a funny film from the 90s please"}],
        }
        with http.stream("POST", "/v1/chat/completions", headers=headers, json=payload) as response:
            for line in response.iter_lines():
                if not line.startswith("data: {"):
                    continue
                if content := json.loads(line[6:])["choices"][0]["delta"].get("content"):
                    if not read.is_set():
                        order.append("client read the first words")
                        read.set()
                    text.append(content)
    assert order == ["client read the first words", "composer released"]
    assert "2. **" in "".join(text)  # the reply went on to its second title after the wait


def test_a_conversation_goes_on_without_repeats_and_records_what_was_seen(
    client: TestClient, signup: Signup, engine: object
) -> None:
    headers, profile = signup()
    oa = _client(client, headers)
    first = oa.chat.completions.create(
        model="marquee-offline",
        messages=[{"role": "user", "content": "a thriller please"}],
        extra_body={"profile_id": profile},
    ).model_extra["marquee"]
    shown = [c["title_id"] for c in first["titles"]]
    second = oa.chat.completions.create(
        model="marquee-offline",
        messages=[{"role": "user", "content": "I've seen it, something else"}],
        extra_body={"profile_id": profile, "conversation_id": first["conversation_id"]},
    ).model_extra["marquee"]
    assert second["conversation_id"] == first["conversation_id"]
    again = [c["title_id"] for c in second["titles"]]
    assert again and not set(again) & set(shown)
    events = engine.events(profile)  # type: ignore[attr-defined]
    assert [(e.title_id, e.kind.value) for e in events] == [(shown[0], "complete")]


def test_a_vague_opening_gets_one_question(client: TestClient, signup: Signup) -> None:
    headers, profile = signup()
    body = {
        "model": "marquee-offline",
        "profile_id": profile,
        "messages": [{"role": "user", "content": "hi there"}],
    }
    first = client.post("/v1/chat/completions", headers=headers, json=body).json()["marquee"]
    assert first["question"] and first["titles"] == []
    body |= {
        "conversation_id": first["conversation_id"],
        "messages": [{"role": "user", "content": "surprise me"}],
    }
    second = client.post("/v1/chat/completions", headers=headers, json=body).json()["marquee"]
    assert not second["question"] and second["titles"]


def test_errors_are_openai_shaped_and_name_the_field(client: TestClient, signup: Signup) -> None:
    headers, profile = signup()
    oa = _client(client, headers)
    with pytest.raises(openai.NotFoundError) as unknown_model:
        oa.chat.completions.create(
            model="gpt-7", messages=[{"role": "user", "content": "hi"}], extra_body={"profile_id": profile}
        )
    assert unknown_model.value.body["param"] == "model"
    post = lambda body: client.post("/v1/chat/completions", headers=headers, json=body)  # noqa: E731
    last_not_user = post(
        {
            "model": "marquee-offline",
            "profile_id": profile,
            "messages": [{"role": "assistant", "content": "x"}],
        }
    )
    assert last_not_user.status_code == 422 and last_not_user.json()["error"]["param"] == "messages"
    assert post({"model": "marquee-offline", "profile_id": profile, "messages": []}).status_code == 422
    too_long = post(
        {
            "model": "marquee-offline",
            "profile_id": profile,
            "messages": [{"role": "user", "content": "x" * 5000}],
        }
    )
    assert too_long.status_code == 422
    client.post("/v1/profiles", json={"name": "second"}, headers=headers)
    ambiguous = post({"model": "marquee-offline", "messages": [{"role": "user", "content": "hi"}]})
    assert ambiguous.status_code == 422 and ambiguous.json()["error"]["field"] == "profile_id"


def test_no_key_reaches_another_accounts_profile_or_conversation(client: TestClient, signup: Signup) -> None:
    mine, profile = signup()
    theirs, _ = signup()
    body = {
        "model": "marquee-offline",
        "profile_id": profile,
        "messages": [{"role": "user", "content": "a comedy"}],
    }
    started = client.post("/v1/chat/completions", headers=mine, json=body).json()["marquee"]
    assert client.post("/v1/chat/completions", json=body).status_code == 401
    stolen = client.post("/v1/chat/completions", headers=theirs, json=body)
    assert stolen.status_code == 404 and "titles" not in stolen.text
    sibling = client.post("/v1/profiles", json={"name": "sibling"}, headers=mine).json()["id"]
    # Conversation ids are each profile's own: the same id from another profile, even one of the same
    # account, starts that profile's own conversation; the first is neither read nor changed.
    store = client.app.state.assistant.store
    before = store.get(started["conversation_id"], profile)
    hijack = body | {"profile_id": sibling, "conversation_id": started["conversation_id"]}
    hijack["messages"] = [{"role": "user", "content": "something with horses"}]
    own = client.post("/v1/chat/completions", headers=mine, json=hijack)
    assert own.status_code == 200 and own.json()["marquee"]["conversation_id"] == started["conversation_id"]
    assert store.get(started["conversation_id"], profile) == before
    theirs_now = store.get(started["conversation_id"], sibling)
    assert theirs_now is not None and [m.content for m in theirs_now.transcript][0] == "something with horses"


def test_bad_text_is_refused_and_long_input_is_answered(client: TestClient, signup: Signup) -> None:
    headers, profile = signup()

    def post(messages: list[dict]) -> httpx.Response:
        body = {"model": "marquee-offline", "profile_id": profile, "messages": messages}
        # A lone surrogate can only be sent as a JSON escape: json.dumps writes it as one.
        return client.post(
            "/v1/chat/completions",
            headers=headers | {"content-type": "application/json"},
            content=json.dumps(body),
        )

    lone = post([{"role": "user", "content": "a comedy \ud800 please"}])
    assert lone.status_code == 422 and lone.json()["error"]["param"] == "messages.0.content"
    parts = post([{"role": "user", "content": [{"type": "text", "text": "\udfff"}]}])
    assert parts.status_code == 422
    # The most a request may hold: 100 messages of 4,000 characters each, answered (read with a cap).
    long = "I would like a funny heist film with a clever twist, nothing too violent. " * 53
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": long[:4000]} for i in range(99)]
    answered = post([*history, {"role": "user", "content": long[:4000]}])
    assert answered.status_code == 200
    assert answered.json()["choices"][0]["message"]["content"]
