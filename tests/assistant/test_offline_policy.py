"""The offline dialogue policy on scripted conversations, over the session's engine (a real data slice)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from assistant import Assistant, Viewer, policy
from assistant.service import ENGINE_NOTICE, OFFLINE_MODEL
from assistant.state import ConversationStore
from assistant.tools import TitleCard, Toolbox
from assistant.understanding import SHORT_RUNTIME
from engine import Conversations, Engine, Event, EventKind
from tests.assistant.conftest import picked_titles

pytestmark = pytest.mark.slow
MATRIX, TOY_STORY = 2571, 1
STAR_WARS = {260, 1196, 1210}


def test_hard_constraints_are_read_and_every_pick_keeps_them(
    assistant: Assistant, viewer: Viewer, engine: Engine
) -> None:
    assert set(engine.titles()) >= STAR_WARS  # the slice holds them, so the exclusion is tested
    reply = assistant.respond(viewer, "90s sci-fi under 2 hours, not Star Wars")
    state = assistant.store.get(reply.conversation_id, viewer.profile_id)
    assert state is not None
    prefs = state.preferences
    assert (prefs.genres, prefs.year_min, prefs.year_max, prefs.max_runtime) == (["Sci-Fi"], 1990, 1999, 120)
    assert set(prefs.disliked_titles) >= STAR_WARS
    picks = picked_titles(engine, reply)
    assert picks and not reply.question
    for title in picks:
        assert "Sci-Fi" in title.genres and 1990 <= (title.year or 0) <= 1999, title
        assert title.runtime is not None and title.runtime <= 120, title
        assert title.id not in STAR_WARS
        assert title.name in reply.text


def test_a_listing_is_emitted_line_by_line_as_it_is_composed(
    assistant: Assistant, viewer: Viewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    pieces: list[str] = []
    compose = policy._item

    def item(position: int, card: TitleCard) -> str:
        events.append(f"compose {position}")
        return compose(position, card)

    def emit(piece: str) -> None:
        events.append("emit")
        pieces.append(piece)

    monkeypatch.setattr(policy, "_item", item)
    reply = assistant.respond(viewer, "a thriller from the 90s please", emit=emit)
    n = len(reply.titles)
    assert n >= 2 and "".join(pieces) == reply.text
    # The lead leaves first, then each title's line before the next one is composed, then the question.
    assert events == ["emit", *[e for i in range(1, n + 1) for e in (f"compose {i}", "emit")], "emit"]


def test_a_vague_request_gets_one_question_then_picks(
    assistant: Assistant, viewer: Viewer, engine: Engine
) -> None:
    first = assistant.respond(viewer, "hi, what should I watch?")
    assert first.question and not first.titles and "mood" in first.text
    second = assistant.respond(viewer, "something funny", conversation_id=first.conversation_id)
    assert not second.question and second.titles
    assert all("Comedy" in t.genres for t in picked_titles(engine, second))
    third = assistant.respond(viewer, "whatever", conversation_id=first.conversation_id)
    assert not third.question  # one question per conversation at most


def test_seen_and_rejected_titles_never_come_back(
    assistant: Assistant, viewer: Viewer, engine: Engine
) -> None:
    first = assistant.respond(viewer, "I've seen The Matrix. A thriller please")
    assert MATRIX not in {c.title_id for c in first.titles}
    shown = {c.title_id for c in first.titles}
    second = assistant.respond(viewer, "I've seen it. Something else?", conversation_id=first.conversation_id)
    assert second.titles and not shown & {c.title_id for c in second.titles}
    # "seen it" is the first pick, stored in the profile's history: its rows will not offer it either.
    seen = [(e.title_id, e.kind) for e in engine.events(viewer.profile_id)]
    assert (first.titles[0].title_id, EventKind.COMPLETE) in seen and (MATRIX, EventKind.COMPLETE) in seen
    third = assistant.respond(viewer, "more thrillers", conversation_id=first.conversation_id)
    assert not (shown | {MATRIX}) & {c.title_id for c in third.titles}


def test_the_profiles_history_is_never_recommended(
    assistant: Assistant, viewer: Viewer, engine: Engine
) -> None:
    popular = [TOY_STORY, 260, 296, 318, 356]
    engine.record(
        [
            Event(
                event_id=f"h{t}",
                profile_id=viewer.profile_id,
                title_id=t,
                kind=EventKind.COMPLETE,
                ts=time.time(),
            )
            for t in popular
        ]
    )
    reply = assistant.respond(viewer, "popular classics everyone loves, like Toy Story")
    assert reply.titles and not set(popular) & {c.title_id for c in reply.titles}


def test_moods_runtime_and_unknown_titles(assistant: Assistant, viewer: Viewer) -> None:
    reply = assistant.respond(viewer, "something dark and funny, not too long, I've seen Fleabag")
    assert "Fleabag" in reply.text  # said plainly: it is not in the catalog
    state = assistant.store.get(reply.conversation_id, viewer.profile_id)
    assert state is not None
    prefs = state.preferences
    assert prefs.genres == ["Comedy"] and "dark" in prefs.moods and prefs.max_runtime == SHORT_RUNTIME
    assert all(c.runtime is not None and c.runtime <= SHORT_RUNTIME for c in reply.titles)


def test_explain_similar_and_relaxing_a_constraint(
    assistant: Assistant, viewer: Viewer, engine: Engine
) -> None:
    like = assistant.respond(viewer, "more like Toy Story")
    assert like.titles and TOY_STORY not in {c.title_id for c in like.titles}
    why = assistant.respond(viewer, "why that one?", conversation_id=like.conversation_id)
    assert like.titles[0].name in why.text
    # Nothing in the slice is a western from before 1930 under 60 minutes: the policy offers to relax.
    empty = assistant.respond(viewer, "a western from before 1930 under 60 minutes")
    assert empty.question and not empty.titles and "drop the runtime limit" in empty.text
    relaxed = assistant.respond(viewer, "yes", conversation_id=empty.conversation_id)
    state = assistant.store.get(empty.conversation_id, viewer.profile_id)
    assert state is not None and state.preferences.max_runtime is None
    assert state.preferences.genres == ["Western"] and state.preferences.year_max == 1929
    assert relaxed.titles or "drop the era" in relaxed.text  # still nothing? the next constraint is offered


def test_a_conversation_survives_a_restart_and_goes_on_on_another_replica(
    engine: Engine, viewer: Viewer, open_conversations: Callable[[], Conversations]
) -> None:
    """Each assistant over its own store on one SQLite file (a restart) or one PostgreSQL database (a
    second replica, which has its own pool)."""
    first = Assistant(engine, ConversationStore(open_conversations()))
    opened = first.respond(viewer, "a comedy from the 80s")
    again = Assistant(engine, ConversationStore(open_conversations()))
    more = again.respond(viewer, "something else", conversation_id=opened.conversation_id)
    assert more.titles and not {c.title_id for c in opened.titles} & {c.title_id for c in more.titles}
    assert all(1980 <= (t.year or 0) <= 1989 and "Comedy" in t.genres for t in picked_titles(engine, more))


def test_tools_refuse_unknown_names_and_bad_arguments(assistant: Assistant, viewer: Viewer) -> None:
    from assistant.state import DialogueState

    tools = Toolbox(assistant.engine, viewer, DialogueState(profile_id=viewer.profile_id), assistant.lexicon)
    assert not tools.call("drop_tables", {}).ok
    assert "profile_id" in tools.call("homepage_rows", {"profile_id": "someone-else"}).content["error"]
    assert not tools.call("recommend", "{not json").ok
    assert not tools.call("recommend", {"k": 1000}).ok
    assert "unknown genre" in tools.call("recommend", {"genres": ["Telenovela"]}).content["error"]
    found = tools.call("recommend", {"genres": ["comedies"], "k": 3})
    assert found.ok and len(found.titles) == 3
    for spec in Toolbox.specs():  # every tool a model is offered is one the toolbox runs
        answer = tools.call(spec["function"]["name"], {"no_such_argument": 1})
        assert "unknown tool" not in answer.content.get("error", "")


def test_feedback_said_twice_is_stored_once(assistant: Assistant, viewer: Viewer, engine: Engine) -> None:
    first = assistant.respond(viewer, "I've seen The Matrix, a thriller please")
    assistant.respond(viewer, "I've seen The Matrix!", conversation_id=first.conversation_id)
    kinds = [e.kind for e in engine.events(viewer.profile_id) if e.title_id == MATRIX]
    assert kinds == [EventKind.COMPLETE]


def test_several_genres_in_one_request_prefer_titles_with_all_of_them(
    assistant: Assistant, viewer: Viewer, engine: Engine
) -> None:
    both = [t for t in engine.titles().values() if {"Comedy", "Animation"} <= set(t.genres)]
    assert len(both) >= 3  # the slice has enough animated comedies for the first three picks
    reply = assistant.respond(viewer, "a funny animated movie for tonight")
    assert all({"Comedy", "Animation"} <= set(t.genres) for t in picked_titles(engine, reply)[:3])


def test_picks_from_the_popularity_fallback_say_degraded(
    assistant: Assistant, viewer: Viewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the title index away the picks are popular titles under the same filters: the reply says so,
    and says nothing of it once the index is back."""
    down: list[str | None] = ["title index unreachable after 3 attempts, retrying: connection refused"]
    monkeypatch.setattr(assistant.engine._parts.index, "known_down", lambda: down[0])
    away = assistant.respond(viewer, "a funny movie from the 90s", model=OFFLINE_MODEL)
    assert away.titles and away.degraded and away.notice == ENGINE_NOTICE
    down[0] = None
    back = assistant.respond(viewer, "a funny movie from the 90s", model=OFFLINE_MODEL)
    assert back.titles and not back.degraded and back.notice is None
