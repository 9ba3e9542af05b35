"""Typing a title's name: any name it goes by ("Se7en" for "Seven (a.k.a. Se7en)"), with or without its
leading article or accents, counts as typed in full; a part of a name does not."""

from __future__ import annotations

import pytest

from engine import Title
from engine.titlenames import TitleNames

NAMES = {
    1: "Seven (a.k.a. Se7en)",
    2: "Seven Samurai (Shichinin no samurai)",
    3: "Léon: The Professional (a.k.a. The Professional) (Léon)",
    4: "The Usual Suspects",
    5: "Hate (La Haine)",
    6: "Twelve Monkeys (a.k.a. 12 Monkeys)",
}


@pytest.fixture(scope="module")
def names() -> TitleNames:
    return TitleNames({i: Title(id=i, name=n, year=1995, genres=("Drama",)) for i, n in NAMES.items()})


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ("seven", 1), ("se7en", 1), ("12 monkeys", 6), ("twelve monkeys", 6), ("the professional", 3),
        ("leon", 3), ("usual suspects", 4), ("the usual suspects", 4), ("la haine", 5), ("hate", 5),
        ("shichinin no samurai", 2), ("Seven (a.k.a. Se7en)", 1),
    ],
)  # fmt: skip
def test_any_name_a_title_goes_by_is_typed_in_full(names: TitleNames, typed: str, title: int) -> None:
    found = names.matches(typed, k=5)
    assert found[0].title_id == title and found[0].score == 1.0, found


def test_a_part_of_a_name_is_not_the_name_in_full(names: TitleNames) -> None:
    found = names.matches("samurai", k=5)
    assert found[0].title_id == 2 and found[0].score < 1.0
    assert len({c.title_id for c in names.matches("seven", k=5)}) == len(names.matches("seven", k=5))


def test_every_name_of_a_title_is_listed() -> None:
    title = Title(id=3, name=NAMES[3], year=1994, genres=())
    assert title.names == (NAMES[3], "Léon: The Professional", "The Professional", "Léon")
    assert Title(id=9, name="Heat", year=1995, genres=()).names == ("Heat",)
