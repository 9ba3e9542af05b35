"""The assistant keeps My List: saving a pick for later (by position or by name), taking one off, and
reading the list back, all through the `my_list` tool and the profile's events."""

from __future__ import annotations

import pytest

from assistant import Assistant, Viewer
from assistant.state import DialogueState
from assistant.tools import Toolbox
from engine import Engine
from tests.assistant.conftest import title_id

pytestmark = pytest.mark.slow


def saved(engine: Engine, viewer: Viewer) -> list[int]:
    return [i.title_id for i in engine.my_list(viewer.context()).items]


@pytest.mark.parametrize(
    ("utterance", "position"),
    [
        ("save that one for later", 0),
        ("Add the second one to my list please", 1),
        ("put the last one on my watchlist", -1),
        ("bookmark #3 for later", 2),
    ],
)
def test_a_pick_is_saved_by_its_place_in_the_last_reply(
    assistant: Assistant, viewer: Viewer, engine: Engine, utterance: str, position: int
) -> None:
    picks = assistant.respond(viewer, "a funny animated film")
    assert len(picks.titles) >= 3
    reply = assistant.respond(viewer, utterance, conversation_id=picks.conversation_id)
    wanted = picks.titles[position]
    assert saved(engine, viewer) == [wanted.title_id]
    assert f"Saved **{wanted.name}** to My List" in reply.text


def test_named_titles_are_saved_listed_newest_first_and_removed(
    assistant: Assistant, viewer: Viewer, engine: Engine
) -> None:
    matrix, toy_story = title_id(engine, "The Matrix"), title_id(engine, "Toy Story")
    first = assistant.respond(viewer, "Save The Matrix for later")
    conversation = first.conversation_id
    assistant.respond(viewer, "add Toy Story to my list", conversation_id=conversation)
    assert saved(engine, viewer) == [toy_story, matrix]
    shown = assistant.respond(viewer, "what's on my list?", conversation_id=conversation)
    assert shown.text.index("Toy Story") < shown.text.index("The Matrix")
    assistant.respond(viewer, "take The Matrix off my list", conversation_id=conversation)
    assert saved(engine, viewer) == [toy_story]
    empty = assistant.respond(viewer, "remove Toy Story from my watchlist", conversation_id=conversation)
    assert saved(engine, viewer) == [] and "Your list is empty." in empty.text


def test_saving_without_a_title_asks_which(assistant: Assistant, viewer: Viewer, engine: Engine) -> None:
    reply = assistant.respond(viewer, "save it for later")
    assert reply.question and saved(engine, viewer) == []


def test_the_tool_refuses_a_viewer_without_a_stored_profile(assistant: Assistant, engine: Engine) -> None:
    guest = Viewer("guest", lambda: engine.context_for(1))  # no record: nothing to keep a list in
    tools = Toolbox(engine, guest, DialogueState(profile_id="guest"), assistant.lexicon)
    result = tools.call("my_list", {"action": "add", "title": 1})
    assert not result.ok and "signed-in profile" in result.content["error"]
    missing = tools.call("my_list", {"action": "add"})
    assert not missing.ok and "needs a title" in missing.content["error"]
