"""People as viewers name them: shortened first names with a surname ("Nick Cage"), a first name alone
when it is one well-known person's ("Leo", "Denzel"), names no credit spells ("The Rock"), and what is
not a person ("Bruce Wayne", "a sly comedy", "the Joker")."""

from __future__ import annotations

import pytest

from assistant.people import PeopleIndex
from engine import Title

# (name, cast): the weights follow how many (popular) titles credit each person.
CAST = [
    ("Titanic", ("Leonardo DiCaprio", "Kate Winslet")),
    ("Inception", ("Leonardo DiCaprio", "Tom Hardy")),
    ("The Departed", ("Leonardo DiCaprio", "Matt Damon", "Jack Nicholson")),
    ("Frozen River", ("Melissa Leo",)),
    ("Training Day", ("Denzel Washington", "Ethan Hawke")),
    ("Face/Off", ("Nicolas Cage", "John Travolta")),
    ("Con Air", ("Nicolas Cage", "John Cusack")),
    ("Chicken Run", ("Nick Park",)),
    ("Pulp Fiction", ("Samuel L. Jackson", "John Travolta", "Tom Hanks")),
    ("Moana", ("Dwayne Johnson",)),
    ("Big", ("Tom Hanks",)),
    ("Top Gun", ("Tom Cruise",)),
    ("Dogma", ("Chris Rock",)),
    ("Batman Forever", ("Bruce Payne", "Val Kilmer")),
    ("Jaws", ("Roy Scheider",)),
    ("The Rock", ("Sean Connery",)),
]


@pytest.fixture(scope="module")
def people() -> PeopleIndex:
    titles = {i: Title(id=i, name=n, year=2000, genres=("Drama",), cast=c) for i, (n, c) in enumerate(CAST)}
    return PeopleIndex(titles, popularity={i: 10.0 for i in titles})


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("I like Nick Cage.", ["Nicolas Cage"]),
        ("anything with Sam Jackson", ["Samuel L. Jackson"]),
        ("I do love Leo though.", ["Leonardo DiCaprio"]),  # before Melissa Leo: the far better known
        ("the one where Leo is on the sinking ship", ["Leonardo DiCaprio"]),
        ("Yeah I like Denzel", ["Denzel Washington"]),
        ("I am not a huge fan of The Rock.", ["Dwayne Johnson"]),
        ("Is that with the Rock?", ["Dwayne Johnson"]),
        ("a sly little comedy with Tom Cruise", ["Tom Cruise"]),
        ("the one where Bruce Wayne becomes Batman", []),  # a character: not Bruce Payne, nor any Bruce
        ("I loved Tom in it", ["Tom Hanks"]),  # cued: the best-known Tom
        ("Tom and I loved Jaws", []),  # a first name shared by several, uncued: someone else
        ("the Joker was great", []),
    ],
)
def test_people_are_read_as_viewers_name_them(people: PeopleIndex, text: str, named: list[str]) -> None:
    assert [m.name for m in people.mentions(text)] == named


def test_a_name_people_go_by_never_takes_a_titles_place(people: PeopleIndex) -> None:
    at = "I loved The Rock".index("The Rock")
    assert people.mentions("I loved The Rock", titles=set(range(at, at + 8))) == []
