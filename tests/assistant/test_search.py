"""Search shares the chat's reading: on the session's slice of ml-latest-small, two opposite onboarded
profiles type the same genre, mood and person queries and get fitting, different lists; a title typed in
full comes first; a description finds the film it describes."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from assistant import Assistant, Viewer
from assistant.search_reading import search_intent
from assistant.state import DialogueState
from engine import Context, Engine, Recommendation, SearchIntent
from engine.cli import app
from evals.search_profiles import CRIME, FAMILY, title_ids
from tests.assistant.conftest import stored_profile, title_id

pytestmark = [pytest.mark.realdata]
TOP = 8


@pytest.fixture(scope="module")
def profiles(engine: Engine) -> tuple[Context, Context]:
    """A viewer onboarded with family animation and one onboarded with crime thrillers."""
    family = stored_profile(engine, "search-family", liked=title_ids(engine, FAMILY))
    crime = stored_profile(engine, "search-crime", liked=title_ids(engine, CRIME))
    return engine.profile_context(family), engine.profile_context(crime)


def searched(
    engine: Engine, assistant: Assistant, query: str, context: Context, k: int = TOP
) -> list[Recommendation]:
    return engine.search(query, context, k=k, intent=search_intent(assistant.understanding, query))


def shared(a: list[Recommendation], b: list[Recommendation]) -> int:
    return len({r.title.id for r in a} & {r.title.id for r in b})


@pytest.mark.parametrize("query, genre", [("comedy", "Comedy"), ("drama", "Drama"), ("action", "Action"),
                                          ("romance", "Romance"), ("sci-fi", "Sci-Fi")])  # fmt: skip
def test_a_genre_query_returns_that_genre_ordered_for_each_profile(
    engine: Engine, assistant: Assistant, profiles: tuple[Context, Context], query: str, genre: str
) -> None:
    family, crime = (searched(engine, assistant, query, p) for p in profiles)
    for found in (family, crime):
        assert len(found) == TOP
        assert sum(genre in r.title.genres for r in found) >= 6, [r.title.name for r in found]
    assert shared(family, crime) <= 4, ([r.title.name for r in family], [r.title.name for r in crime])


def test_a_genre_word_is_not_matched_against_names(engine: Engine, assistant: Assistant) -> None:
    """Unread, "war" finds titles named like it ("Warcraft"-style partial names); read, only war films."""
    context = engine.profile_context(stored_profile(engine, "search-war"))
    read = searched(engine, assistant, "war", context)
    assert read and all("War" in r.title.genres for r in read)
    unread = engine.search("war", context, k=TOP)
    assert any("War" not in r.title.genres for r in unread)  # the peer: what reading changes


@pytest.mark.parametrize("query", ["dark", "heartwarming", "quirky", "mind-bending"])
def test_a_mood_query_gives_opposite_profiles_different_lists(
    engine: Engine, assistant: Assistant, profiles: tuple[Context, Context], query: str
) -> None:
    family, crime = (searched(engine, assistant, query, p) for p in profiles)
    assert len(family) == len(crime) == TOP
    assert shared(family, crime) <= 4, ([r.title.name for r in family], [r.title.name for r in crime])


def test_a_mood_said_of_few_titles_also_offers_titles_close_to_them(
    engine: Engine, profiles: tuple[Context, Context]
) -> None:
    """A mood the catalog's text states for a handful of titles: the pool grows with the titles nearest
    those matches taken together, so taste has something to choose from."""
    said = [t for t in engine.titles().values() if "heartwarming" in " ".join((*t.tags, *t.keywords)).lower()]
    found = engine.search("heartwarming", profiles[0], k=60, intent=SearchIntent(text="heartwarming"))
    alike = [r for r in found if any(reason.startswith("Close to titles") for reason in r.reasons)]
    assert 3 <= len(said) < 24, len(said)  # the case this covers: a thin mood
    assert alike and not {r.title.id for r in alike} & {t.id for t in said}


def test_a_person_is_a_filter_ordered_by_taste_and_mixes_with_a_genre(
    engine: Engine, assistant: Assistant, profiles: tuple[Context, Context]
) -> None:
    family, crime = (searched(engine, assistant, "tom hanks", p) for p in profiles)
    for found in (family, crime):
        assert len(found) == TOP
        assert all("Tom Hanks" in (*r.title.cast, *r.title.directors) for r in found)
    assert [r.title.id for r in family] != [r.title.id for r in crime]  # each profile's own order
    war = searched(engine, assistant, "tom hanks war", profiles[1])
    assert war and all("Tom Hanks" in r.title.cast and "War" in r.title.genres for r in war)
    assert title_id(engine, "Saving Private Ryan") in {r.title.id for r in war}


@pytest.mark.parametrize(
    "typed, name", [("toy story", "Toy Story"), ("heat", "Heat"), ("up", "Up"), ("the matrix", "The Matrix")]
)
def test_a_title_typed_in_full_comes_first_for_any_profile(
    engine: Engine, assistant: Assistant, profiles: tuple[Context, Context], typed: str, name: str
) -> None:
    for context in profiles:
        assert searched(engine, assistant, typed, context)[0].title.id == title_id(engine, name)


@pytest.mark.parametrize(
    "description, name",
    [
        ("the one where the toys come alive", "Toy Story"),
        ("a hacker learns reality is a computer simulation", "The Matrix"),
        ("a boy sees dead people", "The Sixth Sense"),
        ("dinosaurs brought back to life in an island theme park", "Jurassic Park"),
    ],
)
def test_a_description_finds_the_film_first(
    engine: Engine, assistant: Assistant, profiles: tuple[Context, Context], description: str, name: str
) -> None:
    found = searched(engine, assistant, description, profiles[1], k=5)
    assert found[0].title.id == title_id(engine, name), [r.title.name for r in found]


def test_an_intent_filters_without_any_reading(engine: Engine, profiles: tuple[Context, Context]) -> None:
    """The engine's half on its own: genres, exclusions and an era hold whatever the query's words."""
    intent = SearchIntent(genres=("Comedy",), exclude_genres=("Romance",), year_min=1990, year_max=1999)
    found = engine.search("anything", profiles[0], k=TOP, intent=intent)
    assert found
    for r in found:
        assert "Comedy" in r.title.genres and "Romance" not in r.title.genres
        assert r.title.year is not None and 1990 <= r.title.year <= 1999


def test_eval_search_names_a_bad_query_and_the_valid_kinds() -> None:
    result = CliRunner().invoke(app, ["eval-search", "--query", "actor:tom hanks"])
    assert result.exit_code == 2
    assert "bad --query 'actor:tom hanks'" in result.stderr and "genre, mood, person" in result.stderr


def test_the_assistants_search_tool_reads_the_query_as_the_search_box_does(
    engine: Engine, assistant: Assistant, profiles: tuple[Context, Context]
) -> None:
    """An LLM's `search_titles` call goes through the same reading: "war" brings war films only."""
    viewer = Viewer.stored(engine, stored_profile(engine, "search-tool"))
    tools = assistant.toolbox(viewer, DialogueState(profile_id=viewer.profile_id))
    result = tools.call("search_titles", {"query": "war", "k": TOP})
    found = result.content["titles"]  # what the model reads back (search results are not offered as picks)
    assert result.ok and found
    assert all("War" in t["genres"] for t in found), [t["name"] for t in found]
