"""Reading utterances: titles by name (and what is not a title), genres, eras, runtimes, moods."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.titles import TitleResolver
from assistant.understanding import SHORT_RUNTIME, Understanding
from engine import Title

NAMES = {
    1: "It",
    2: "The War",
    3: "The Matrix",
    4: "Alien",
    5: "Stanley Kubrick: A Life in Pictures",
    6: "The English Teacher",
    7: "Star Wars: Episode IV - A New Hope",
    8: "Star Wars: Episode V - The Empire Strikes Back",
    9: "Heat",
    10: "Heat",
}


@pytest.fixture(scope="module")
def resolver() -> TitleResolver:
    titles = {i: Title(id=i, name=n, year=1990 + i, genres=("Drama",)) for i, n in NAMES.items()}
    return TitleResolver(titles, popularity={10: 5.0, 9: 1.0})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I've seen The Matrix and something like Alien", [3, 4]),
        ("I loved the matrix", [3]),
        ("Not those. It should be a thriller one.", []),  # a sentence's first word, not the film "It"
        ("I've seen it", []),
        ("I've seen It", [1]),
        ("Nope. I'd like a war film.", []),
        ("a drama where an english teacher inspires his students", []),
        ("not Star Wars", [7, 8]),  # a franchise names all its films
        ("more like Heat", [10]),  # the most watched of two films with one name
    ],
)
def test_titles_named_in_a_sentence(resolver: TitleResolver, text: str, expected: list[int]) -> None:
    found = [i for m in resolver.mentions(text) for i in m.title_ids]
    assert sorted(found) == sorted(expected)


def test_names_resolve_with_typos_and_years(resolver: TitleResolver) -> None:
    assert resolver.resolve("the matrx") == 3
    assert resolver.resolve("Heat (1999)") == 9 and resolver.resolve("heat") == 10
    assert resolver.resolve("Insomnia") is None


def test_every_name_a_title_goes_by_resolves_and_is_found_in_a_sentence() -> None:
    names = {1: "Seven (a.k.a. Se7en)", 2: "Léon: The Professional (a.k.a. The Professional) (Léon)"}
    titles = {i: Title(id=i, name=n, year=1995, genres=("Drama",)) for i, n in names.items()}
    resolver = TitleResolver(titles, popularity={})
    assert [resolver.resolve(n) for n in ("se7en", "Seven", "the professional", "Leon")] == [1, 1, 2, 2]
    assert [m.title_ids for m in resolver.mentions("I loved Se7en and The Professional")] == [(1,), (2,)]


@pytest.fixture(scope="module")
def understanding(assistant: Assistant) -> Understanding:
    return assistant.understanding


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "90s sci-fi under 2 hours",
            {"genres": ["Sci-Fi"], "year_min": 1990, "year_max": 1999, "max_runtime": 120},
        ),
        ("no horror, nothing scary, a comedy", {"genres": ["Comedy"], "exclude_genres": ["Horror"]}),
        ("a comedy film made after 1970", {"genres": ["Comedy"], "year_min": 1971}),
        ("a comedy from before 1980", {"genres": ["Comedy"], "year_max": 1979}),
        ("an old western", {"genres": ["Western"], "year_max": 1979}),
        ("something short", {"max_runtime": SHORT_RUNTIME}),
        ("under 90 minutes please", {"max_runtime": 90}),
        ("a film for family night with my kids", {"maturity_limit": "PG", "audience": "kids"}),
        # Story words are not constraints: no era from "recently" or "year old", no genre from "detective".
        ("someone has recently graduated", {"moods": ["someone has recently graduated"]}),
        ("a 26 year old coder", {}),  # an age, and a word near no mood: nothing to search
        ("about a detective who hunts a killer", {"moods": ["detective hunts killer"]}),
        ("something about moses", {"moods": ["moses"]}),
        ("hello there", {}),
    ],
)
def test_preferences_read_from_an_utterance(understanding: Understanding, text: str, expected: dict) -> None:
    update = understanding.read(text).update.model_dump()
    assert {k: v for k, v in update.items() if v} == expected


def test_moods_come_from_closeness_to_the_vocabulary(understanding: Understanding) -> None:
    mood = understanding.read("something dark and quirky").update.moods
    assert mood == ["dark", "quirky"]
    # "gloomy" is in no list; the embedder puts it near "bleak", and the vocabulary's word is what is
    # searched and said back. A word near nothing ("times") is dropped, never searched for by itself.
    assert understanding.read("something gloomy").update.moods == ["bleak"]
    assert understanding.read("picks for times").update.moods == []
