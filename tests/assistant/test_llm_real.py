"""The LLM path against a real model, when one is configured: MARQUEE_TEST_LLM_URL (an OpenAI-compatible
base URL, e.g. llama.cpp's `llama-server` at http://127.0.0.1:8080/v1) and optionally
MARQUEE_TEST_LLM_MODEL. Real models are imperfect: the tests hold the assistant to its promises (no code
or JSON reaches the viewer, every reply grounded or flagged degraded, the turn bounded), not the model
to a particular answer."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from assistant import Assistant, Viewer
from assistant.llm_text import looks_like_code
from engine import Engine
from engine.config import LLMSettings
from tests.assistant.conftest import stored_profile

URL = os.environ.get("MARQUEE_TEST_LLM_URL")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.realdata,
    pytest.mark.skipif(not URL, reason="no real model: set MARQUEE_TEST_LLM_URL to an OpenAI-compatible URL"),
]

CONVERSATION = (
    "hi! I want something funny tonight but nothing with horror",
    "I loved Toy Story, anything like that?",
    "seen those, something older please",
    "why the second one?",
)


@pytest.fixture(params=["plan", "react"])
def real(request: pytest.FixtureRequest, assistant: Assistant) -> Iterator[Assistant]:
    model = os.environ.get("MARQUEE_TEST_LLM_MODEL", "local")
    assistant.connect(
        LLMSettings(base_url=URL, model=model, driver=request.param, timeout_s=60, turn_budget_s=120)
    )
    yield assistant
    assistant.connect(None)


def test_a_conversation_with_a_real_model_is_grounded_and_shows_no_code(
    real: Assistant, engine: Engine
) -> None:
    viewer = Viewer.stored(engine, stored_profile(engine, "real-model"))
    conversation = None
    for text in CONVERSATION:
        pieces: list[str] = []
        reply = real.respond(viewer, text, conversation_id=conversation, emit=pieces.append)
        conversation = reply.conversation_id
        assert "".join(pieces) == reply.text
        assert not looks_like_code(reply.text), reply.text
        explaining = text.startswith("why")  # an explanation names one title, as a card or not
        assert reply.titles or reply.degraded or reply.question or explaining
        for card in reply.titles:
            assert card.title_id in engine.titles()
        if "horror" in text:
            assert all("Horror" not in c.genres for c in reply.titles)
