"""The labelled utterance suite: real seeker messages from ReDial train and written ones, each with the
reading it must get (tests/assistant/utterances/*.json). Only the fields a case names are checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from assistant.understanding import Reading, Understanding

SUITES = Path(__file__).with_name("utterances")
LISTS = ("genres", "exclude_genres", "people", "exclude_people", "moods", "avoid_moods")
MOOD_LISTS = ("moods", "avoid_moods")
TITLE_LISTS = {"liked": "liked_titles", "disliked": "disliked_titles", "seen": "seen_titles"}
SCALARS = ("year_min", "year_max", "max_runtime", "maturity_limit", "audience")


def cases() -> list[Any]:
    found = []
    for path in sorted(SUITES.glob("*.json")):
        for i, case in enumerate(json.loads(path.read_text(encoding="utf-8"))["cases"]):
            found.append(pytest.param(case, id=f"{path.stem}-{i}-{case['text'][:40]}"))
    return found


def mismatches(reading: Reading, expect: dict[str, Any], title: Any) -> list[str]:
    """Each expected field the reading got wrong, as "field: got X, want Y". `title` maps a name to an id."""
    update = reading.update
    wrong = []

    def check(name: str, got: Any, want: Any) -> None:
        if got != want:
            wrong.append(f"{name}: got {got!r}, want {want!r}")

    for name in LISTS:
        if name in expect:
            got, want = getattr(update, name), expect[name]
            if name in MOOD_LISTS and want:  # these words among them: the embedder may add a neighbour
                check(name, [w for w in want if w not in got], [])
            else:
                check(name, sorted(got), sorted(want))
    for name, field in TITLE_LISTS.items():
        if name in expect:
            check(name, sorted(getattr(update, field)), sorted(title(t) for t in expect[name]))
    for name in SCALARS:
        if name in expect:
            check(name, getattr(update, name), expect[name])
    if "year_max_at_most" in expect and (
        update.year_max is None or update.year_max > expect["year_max_at_most"]
    ):
        wrong.append(f"year_max: got {update.year_max}, want at most {expect['year_max_at_most']}")
    if "year_min_at_least" in expect and (
        update.year_min is None or update.year_min < expect["year_min_at_least"]
    ):
        wrong.append(f"year_min: got {update.year_min}, want at least {expect['year_min_at_least']}")
    for name in ("explain", "similar_to"):
        if name in expect:
            check(name, getattr(reading, name), title(expect[name]))
    for name in ("count", "intent", "foreign"):
        if name in expect:
            check(name, getattr(reading, name), expect[name])
    return wrong


@pytest.fixture(scope="module")
def understanding(assistant: Assistant) -> Understanding:
    return assistant.understanding


@pytest.mark.parametrize("case", cases())
def test_utterance_is_read_as_meant(understanding: Understanding, assistant: Assistant, case: dict) -> None:
    def title(name: str) -> int:
        found = assistant.lexicon.titles.resolve(name)
        assert found is not None, f"the suite names {name!r}, which the slice lacks"
        return found

    shown = [title(n) for n in case.get("shown", [])]
    reading = understanding.read(case["text"], shown=shown)
    wrong = mismatches(reading, case["expect"], title)
    assert not wrong, "; ".join(wrong)
