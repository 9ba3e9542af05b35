"""Ranking the catalog for a conversation: co-mentions put what recommenders suggest after a title first,
and the offline policy's picks follow them when the viewer names a title."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from assistant import Assistant, Viewer
from assistant.comentions import CoMentions
from assistant.dialogue_ranking import NEIGHBOURS, DialogueRanker, cold_context
from assistant.lexicon import Lexicon
from assistant.state import ConversationStore
from engine import Engine


def _anchor_and_obscure(engine: Engine) -> tuple[int, int]:
    """A well-known title with a long, unique name, and the catalog's least watched title."""
    items, counts = np.unique(engine.interactions().items, return_counts=True)
    watched = dict(zip(items.tolist(), counts.tolist(), strict=True))
    titles = engine.titles().values()
    names = [t.name.lower() for t in titles]
    long = [t.id for t in titles if len(t.name) > 20 and names.count(t.name.lower()) == 1]
    by_count = sorted(engine.titles(), key=lambda t: (watched.get(t, 0), t))
    return max(long, key=lambda t: watched.get(t, 0)), by_count[0]


@pytest.fixture(scope="module")
def pair(engine: Engine) -> tuple[int, int, CoMentions]:
    anchor, obscure = _anchor_and_obscure(engine)
    other = next(t for t in sorted(engine.titles()) if t not in (anchor, obscure))
    # Recommenders suggest `other` most overall: without the co-mention, `obscure` has no claim to lead.
    return anchor, obscure, CoMentions(follows={anchor: {obscure: 0.6}}, suggested={obscure: 1, other: 50})


def test_the_co_mentioned_title_comes_first(engine: Engine, pair) -> None:
    anchor, obscure, comentions = pair
    name = engine.titles()[anchor].display_name
    lexicon = Lexicon.for_engine(engine)
    with_redial = DialogueRanker(engine, lexicon.titles, comentions)
    without = DialogueRanker(engine, lexicon.titles, CoMentions.empty())
    turns = [
        ("user", "hi, looking for a movie"),
        ("assistant", "What do you like?"),
        ("user", f"I loved {name}"),
    ]
    ranked = with_redial.rank(turns, cold_context("v"), k=10)
    assert ranked[0] == obscure
    assert anchor not in ranked  # named titles are never offered back
    assert obscure not in without.rank(turns, cold_context("v"), k=10)[:1]
    disliked = [("user", f"I hated {name}, it was boring")]  # no evidence from a title spoken badly of
    assert with_redial.rank(disliked, cold_context("v"), k=10)[0] != obscure


@pytest.fixture(scope="module")
def redial_assistant(engine: Engine, pair, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    store = ConversationStore(tmp_path_factory.mktemp("redial-chat") / "c.sqlite")
    found = Assistant(engine, store, comentions=pair[2])
    yield found
    found.close()


def test_assistant_rank_and_the_offline_picks_follow_co_mentions(
    engine: Engine, pair, redial_assistant: Assistant
) -> None:
    anchor, obscure, _ = pair
    name = engine.titles()[anchor].name
    viewer = Viewer("redial-viewer", lambda: cold_context("redial-viewer"))
    assert redial_assistant.rank(viewer, [("user", f"anything like {name}?")], k=5)[0] == obscure
    reply = redial_assistant.respond(viewer, f"I really liked {name}, what should I watch?")
    assert reply.titles[0].title_id == obscure
    assert reply.titles[0].explanation == f"Often suggested to people who like {name}"
    assert anchor not in [c.title_id for c in reply.titles]
    like = redial_assistant.respond(viewer, f"anything similar to {name}?")  # "more like X" follows them too
    assert like.titles[0].title_id == obscure


def test_neighbours_from_the_fallback_flag_the_picks_and_are_not_kept(
    engine: Engine, pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neighbours read while the index is away are popular titles: the picks say they are degraded, and
    the real neighbours are read once the index is back (the stand-ins were not cached)."""
    anchor, _, _ = pair
    ranker = DialogueRanker(engine, Lexicon.for_engine(engine).titles, CoMentions.empty())
    down: list[str | None] = ["title index unreachable after 3 attempts, retrying: connection refused"]
    monkeypatch.setattr(engine._parts.index, "known_down", lambda: down[0])
    away = ranker.picks([anchor], cold_context("v"), k=5)
    assert away and away.degraded
    down[0] = None
    back = ranker.picks([anchor], cold_context("v"), k=5)
    assert back and not back.degraded
    real = tuple(r.title.id for r in engine.similar(anchor, None, k=NEIGHBOURS))
    assert ranker._neighbours(anchor) == (real, False)
