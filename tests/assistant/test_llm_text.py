"""What models write as text: tool calls recovered from every form seen with real models, code told from
prose, and a streamed reply grounded title by title however the model splits its tokens."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from assistant.grounding import CUT
from assistant.llm_stream import StreamGrounder
from assistant.llm_text import TextCall, first_object, looks_like_code, recover_calls
from tests.assistant.openai_stub import TEXT_CALL_FORMS, text_call

KNOWN = {"recommend", "similar_titles", "plan"}
ARGS = {"genres": ["Comedy"], "k": 3}


@pytest.mark.parametrize("form", TEXT_CALL_FORMS)
def test_every_written_form_of_a_call_is_recovered(form: str) -> None:
    text = text_call("recommend", ARGS, form).content
    assert text is not None
    assert recover_calls(text, KNOWN) == [TextCall("recommend", ARGS)]
    assert looks_like_code(text)


@pytest.mark.parametrize(
    "text",
    [
        '[{"name": "recommend", "arguments": {"genres": ["Comedy"], "k": 3}}]',
        '{"function": {"name": "recommend", "arguments": "{\\"genres\\": [\\"Comedy\\"], \\"k\\": 3}"}}',
        '{"tool": "recommend", "parameters": {"genres": ["Comedy"], "k": 3}}',
        'Sure!\n{"name": "recommend", "args": {"genres": ["Comedy"], "k": 3}}\nOne moment.',
    ],
)
def test_the_shapes_models_give_a_call_are_recovered(text: str) -> None:
    assert recover_calls(text, KNOWN) == [TextCall("recommend", ARGS)]


def test_unknown_tools_and_plain_prose_recover_nothing() -> None:
    assert recover_calls('{"name": "get_watch_history", "arguments": {}}', KNOWN) == []
    assert recover_calls("functions.delete_account:{}", KNOWN) == []
    prose = "Try **Heat** (1995): a tense crime epic {with a twist}. You'll love it."
    assert recover_calls(prose, KNOWN) == [] and not looks_like_code(prose)


def test_json_where_prose_belongs_is_code() -> None:
    assert looks_like_code('{"titles": [{"name": "Heat"}]}')
    assert looks_like_code('Here you go:\n"recommendations": ["Heat"]')
    assert first_object('```json\n{"action": "recommend", "genres": ["Drama"]}\n```') == {
        "action": "recommend",
        "genres": ["Drama"],
    }


class FakeGrounder:
    """Knows which names are real; records what was checked."""

    def __init__(self, real: set[str]) -> None:
        self.real = real
        self.cards: dict[str, Any] = {}
        self.invented = 0

    def check(self, match: re.Match[str]) -> bool:
        name = match.group("name")
        if name in self.real:
            self.cards[name] = name
            return True
        self.invented += 1
        return False


REPLY = (
    "Here are two for tonight:\n"
    "1. **Heat** (1995) — a tense crime epic.\n"
    "2. **The Midnight Garden** (2031) — a moonlit fable.\n"
    "Or **Fargo** if you like it darker, not **Moonfall Express** (2040).\n"
    "Enjoy!"
)


def stream(reply: str, size: int) -> tuple[list[str], StreamGrounder]:
    grounder = StreamGrounder(FakeGrounder({"Heat", "Fargo"}))  # type: ignore[arg-type]
    out = [grounder.feed(reply[i : i + size]) for i in range(0, len(reply), size)]
    out.append(grounder.finish())
    return [piece for piece in out if piece], grounder


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_a_streamed_reply_is_grounded_the_same_however_it_is_split(size: int) -> None:
    pieces, grounder = stream(REPLY, size)
    text = "".join(pieces)
    assert text == (
        "Here are two for tonight:\n"
        "1. **Heat** (1995) — a tense crime epic.\n"
        f"Or **Fargo** if you like it darker, not {CUT}.\n"
        "Enjoy!"
    )
    assert grounder.text == text and not grounder.code
    assert not any("Midnight" in p or "Moonfall" in p for p in pieces)  # never sent, not even in part
    assert grounder.grounder.invented == 2  # type: ignore[attr-defined]
    if size < 10:
        assert len(pieces) > 5  # it streamed: the text went out in many pieces, not at the end


def test_code_in_a_streamed_reply_stops_it_before_any_of_the_code_is_sent() -> None:
    reply = 'Sure, here:\n{"name": "recommend", "arguments": {"k": 3}}\nMore text'
    pieces, grounder = stream(reply, 2)
    assert "".join(pieces) == "Sure, here:\n" and grounder.code
    pieces, grounder = stream(json.dumps({"titles": ["Heat"]}), 4)
    assert pieces == [] and grounder.code


@pytest.mark.parametrize("size", [1, 5, 1000])
def test_list_items_without_bold_are_checked_too(size: int) -> None:
    """Small models list titles without bold: such an item goes out only once its title is checked."""
    reply = (
        "Try these:\n"
        "1. Heat (1995) - a tense crime epic.\n"
        "2. The Midnight Garden (2031): a moonlit fable.\n"
        "- Fargo: darker.\n"
        "Enjoy!"
    )
    pieces, grounder = stream(reply, size)
    kept = "Try these:\n1. **Heat** (1995) - a tense crime epic.\n- **Fargo**: darker.\nEnjoy!"
    assert "".join(pieces) == kept
    assert not any("Midnight" in p for p in pieces)
    assert grounder.grounder.invented == 1  # type: ignore[attr-defined]
