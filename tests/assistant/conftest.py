"""The scripted OpenAI-compatible server the LLM path talks to, and stored profiles on the session's
engine (tests/conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import pytest

from assistant import Assistant, Reply, Viewer
from assistant.state import ConversationStore
from engine import Engine, Event, EventKind, Title, new_id
from tests.assistant.openai_stub import OpenAIStub


@pytest.fixture(scope="session")
def openai_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


def title_id(engine: Engine, name: str) -> int:
    """The catalog id of the title called exactly `name`."""
    found = [t.id for t in engine.titles().values() if t.name == name]
    assert len(found) == 1, f"{name!r} is not one title of the slice"
    return found[0]


def stored_profile(
    engine: Engine,
    name: str,
    *,
    maturity_limit: str | None = None,
    finished: Sequence[int] = (),
    started: Sequence[int] = (),
    liked: Sequence[int] = (),
) -> str:
    """A new account with one profile whose history holds these titles; returns the profile id."""
    account = engine.accounts().create_account(name)
    profile = engine.accounts().create_profile(account.id, name, maturity_limit=maturity_limit)
    at = time.time() - 3600
    events = [Event(new_id(), profile.id, t, EventKind.COMPLETE, ts=at + i) for i, t in enumerate(finished)]
    events += [
        Event(new_id(), profile.id, t, EventKind.PROGRESS, 0.4, ts=at + 60 + i) for i, t in enumerate(started)
    ]
    events += [
        Event(new_id(), profile.id, t, EventKind.THUMB_UP, ts=at + 120 + i) for i, t in enumerate(liked)
    ]
    if events:
        engine.record(events)
    return profile.id


@pytest.fixture
def viewer(engine: Engine) -> Viewer:
    """A new profile with no history, of an account of its own."""
    return Viewer.stored(engine, stored_profile(engine, "viewer"))


def picked_titles(engine: Engine, reply: Reply) -> list[Title]:
    """The catalog titles a reply offered, in order."""
    return [engine.titles()[c.title_id] for c in reply.titles]


@pytest.fixture(scope="module")
def assistant(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """An assistant over the session engine (offline policy; tests add an LLM agent where they need one).

    Warmed up as a served app's is: whichever test runs first, no turn's LLM budget pays for loading the
    text model (the first LLM test in a shuffled order used to time out on it)."""
    found = Assistant(engine, ConversationStore(tmp_path_factory.mktemp("chat") / "conversations.sqlite"))
    found.warm_up()
    yield found
    found.close()
