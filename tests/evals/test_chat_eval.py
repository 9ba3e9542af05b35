"""The chat evaluation: hits by catalog id, a simulator that never names its target, constraint checks, and
a short real run on a slice of ml-latest-small with an engine that knows only the training period."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from assistant.preferences import Preferences
from assistant.reply import Reply
from assistant.service import Assistant
from assistant.state import ConversationStore
from assistant.tools import TitleCard, Viewer
from catalog import Context, Dataset, Title, load_dataset
from catalog.splitting import Split, temporal_split
from engine import Engine, Settings, assemble
from evals.chat import KEYS, evaluate, register, table
from evals.chat_suite import generate
from evals.conversation import TURNS, Outcome, Session, converse, misread, sample_sessions, summarize
from evals.hard_constraints import Stated
from evals.phrasebook import Phrasebook
from evals.simulator import SimulatedUser, facts_of, keyword_counts, says_title

HEAT = Title(
    1,
    "Heat",
    1995,
    ("Action", "Crime", "Thriller"),
    overview="Obsessive master thief Neil McCauley leads a top-notch crew on various daring heists "
    "throughout Los Angeles while a mentally unstable detective tracks him down.",
    keywords=("robbery", "police", "heist", "los angeles", "heat wave"),
    directors=("Michael Mann",),
    cast=("Al Pacino", "Robert De Niro"),
    runtime=170,
)
# Shares keywords with Heat (a viewer describes a film by what it has in common with others), and a
# remake of it with the same name, which must never be named either.
RONIN = Title(
    2, "Ronin", 1998, ("Action", "Crime"), keywords=("robbery", "police", "heist", "los angeles", "heat wave")
)
HEAT_REMAKE = Title(3, "Heat", 1986, ("Action", "Drama"), runtime=101)
COMEDY = Title(4, "Airplane!", 1980, ("Comedy",), runtime=88)
CATALOG = {t.id: t for t in (HEAT, RONIN, HEAT_REMAKE, COMEDY)}
# Our own lines in the shape of mined ones (the real phrasebook comes from ReDial's train file).
PHRASES = Phrasebook(
    {
        "genre": ["hi, I'm looking for a good {x} tonight", "I love {xs}!", "any good {xa} films?"],
        "era": ["I like movies {x}"],
        "person": ["I'd like to see a movie {x}."],
        "topic": ["Looking for a good movie {x}"],
        "exclude": ["Not really in the mood for {x}."],
        "seen": ["I have seen {title} already", "we watched {title} last week"],
        "reject": ["nah", "No not that one either."],
    }
)


def card(title: Title, *, title_id: int | None = None) -> TitleCard:
    return TitleCard(
        title_id=title.id if title_id is None else title_id,
        name=title.name,
        year=title.year,
        genres=list(title.genres),
        runtime=title.runtime,
        explanation="because",
    )


class Scripted:
    """An assistant that shows `picks(turn)` on each turn and remembers what it heard."""

    def __init__(self, picks: Callable[[int], list[TitleCard]], *, ask_on: tuple[int, ...] = ()) -> None:
        self.picks = picks
        self.ask_on = ask_on
        self.heard: list[str] = []

    def respond(self, viewer: Viewer, text: str, *, conversation_id: str | None = None) -> Reply:
        self.heard.append(text)
        turn = len(self.heard)
        if turn in self.ask_on:
            return Reply(text="What are you in the mood for?", question=True, conversation_id="c")
        return Reply(text="Here you go", titles=self.picks(turn), conversation_id="c")


def simulated(target: Title = HEAT, *, seen: frozenset[int] = frozenset(), seed: int = 0) -> SimulatedUser:
    return SimulatedUser(
        target,
        facts=facts_of(target, keyword_counts(CATALOG)),
        seen=seen,
        titles=CATALOG,
        latest_year=2018,
        rng=np.random.default_rng(seed),
        phrases=PHRASES,
    )


def talk(assistant: Scripted, user: SimulatedUser, *, history: frozenset[int] = frozenset()) -> Outcome:
    viewer = Viewer("7", lambda: Context(profile_id="7"))
    return converse(assistant, viewer, user, Session(user=7, target=user.target.id), history=history)


# -- hits are judged by catalog id -----------------------------------------------------------------


def test_a_target_shown_at_once_is_a_hit_in_one_turn() -> None:
    outcome = talk(Scripted(lambda turn: [card(COMEDY), card(HEAT)]), simulated())
    assert outcome.hit and outcome.turns == 1
    assert outcome.latencies_ms and len(outcome.transcript) == 1


def test_a_title_with_the_targets_name_but_another_id_is_a_miss() -> None:
    assistant = Scripted(lambda turn: [card(HEAT, title_id=999)])  # same name, year and genres
    outcome = talk(assistant, simulated())
    assert not outcome.hit and outcome.turns == TURNS
    assert len(assistant.heard) == TURNS  # the viewer kept going until the fifth turn


def test_a_target_shown_on_the_third_turn_counts_three_turns_and_questions_are_answered() -> None:
    assistant = Scripted(lambda turn: [card(HEAT)] if turn == 3 else [card(COMEDY)], ask_on=(1,))
    outcome = talk(assistant, simulated())
    assert outcome.hit and outcome.turns == 3 and outcome.questions == 1
    figures = summarize([outcome, talk(Scripted(lambda turn: [card(RONIN)]), simulated())])
    assert figures["hit_rate"] == 0.5 and figures["mean_turns"] == (3 + TURNS) / 2
    assert set(KEYS) <= set(figures)


def test_repeats_and_titles_from_the_history_are_counted() -> None:
    outcome = talk(Scripted(lambda turn: [card(RONIN), card(COMEDY)]), simulated(), history=frozenset({4}))
    # Airplane! is in the history every turn; Ronin is new on the first turn only.
    assert outcome.repeated == TURNS + (TURNS - 1)
    assert summarize([outcome])["repeated_seen"] == outcome.repeated


def test_titles_breaking_a_stated_genre_lower_constraint_satisfaction() -> None:
    wrong = talk(Scripted(lambda turn: [card(COMEDY)]), simulated())
    alike = talk(Scripted(lambda turn: [card(HEAT, title_id=999)]), simulated())
    assert summarize([wrong])["constraint_satisfaction"] == 0.0  # Heat's viewer always names a genre of it
    assert summarize([alike])["constraint_satisfaction"] == 1.0  # the target keeps what its viewer says


# -- the simulated viewer ------------------------------------------------------------------------------


def test_the_simulator_never_says_the_targets_name_even_when_its_facts_contain_it() -> None:
    assert says_title("I loved Heat, really", HEAT)  # the check itself can fire
    assert not says_title("I loved the heatwave", HEAT)
    for seed in range(40):
        user = simulated(seen=frozenset({2, 3}), seed=seed)
        assistant = Scripted(lambda turn: [card(RONIN), card(HEAT_REMAKE), card(COMEDY)], ask_on=(2,))
        talk(assistant, user)
        assert len(user.said) == TURNS
        for said in user.said:
            assert not says_title(said, HEAT), said
            assert "mccauley" not in said.lower()  # names in the plot are left out
        assert any("Ronin" in said for said in user.said)  # seen picks are named, the same-named remake not
        assert user.stated.genres and user.stated.genres <= set(HEAT.genres)


@pytest.mark.realdata
def test_the_simulator_never_names_any_target_of_a_real_catalog(small_slice_dir: Path) -> None:
    titles = load_dataset("ml-latest-small", small_slice_dir).titles
    counts = keyword_counts(titles)
    others = list(titles.values())[:6]
    for i, target in enumerate(titles.values()):
        user = SimulatedUser(
            target,
            facts=facts_of(target, counts),
            seen=frozenset(t.id for t in others),
            titles=titles,
            latest_year=2018,
            rng=np.random.default_rng(i),
            phrases=PHRASES,
        )
        picks = [card(t) for t in others if t.id != target.id][:5]
        talk(Scripted(lambda turn, picks=picks: picks, ask_on=(3,)), user)
        assert all(not says_title(said, target) for said in user.said), (target.name, user.said)


def test_sessions_take_users_in_turn_and_repeat_with_the_seed() -> None:
    test = {1: frozenset({10, 11, 12}), 2: frozenset({20}), 3: frozenset({30, 31})}
    sessions = sample_sessions(test, 4, seed=3)
    assert len({s.user for s in sessions[:3]}) == 3
    assert all(s.target in test[s.user] for s in sessions)
    assert sessions == sample_sessions(test, 4, seed=3)
    assert len(sample_sessions(test, 100, seed=3)) == 6  # every target once, then no more


# -- hard constraints ---------------------------------------------------------------------------------------


def test_constraint_checks_catch_each_kind_of_violation() -> None:
    stated = Stated(
        genres=frozenset({"Sci-Fi", "Comedy"}),
        exclude_genres=frozenset({"Horror"}),
        year_min=1990,
        year_max=1999,
        max_runtime=120,
        exclude_titles=frozenset({77}),
    )
    fits = Title(5, "Galaxy Quest", 1999, ("Comedy", "Sci-Fi"), runtime=102)
    assert stated.satisfied_by(fits, 5) and stated.all_genres(fits)
    one_genre = Title(6, "Clerks", 1994, ("Comedy",), runtime=92)
    assert stated.satisfied_by(one_genre, 6) and not stated.all_genres(one_genre)  # "any of", as the engine
    breaking = {
        "genre": Title(8, "x", 1995, ("Drama",), runtime=90),
        "excluded": Title(8, "x", 1995, ("Comedy", "Horror"), runtime=90),
        "too old": Title(8, "x", 1989, ("Comedy",), runtime=90),
        "no year": Title(8, "x", None, ("Comedy",), runtime=90),
        "too long": Title(8, "x", 1995, ("Comedy",), runtime=121),
        "unknown runtime": Title(8, "x", 1995, ("Comedy",), runtime=None),
    }
    for why, title in breaking.items():
        assert len(stated.violations(title, 8)) == 1, why
    assert stated.violations(fits, 77) == ["a title ruled out by name"]
    assert not stated.satisfied_by(card(fits), 77)  # cards are judged the same way


def test_misreadings_name_what_the_assistant_got_wrong() -> None:
    stated = Stated(genres=frozenset({"Comedy"}), year_min=1990, year_max=1999)
    prefs = Preferences(genres=["Comedy", "Action"], year_min=2013, year_max=1999)
    kinds = [kind for kind, _ in misread(prefs, stated, topics=True, said_now=frozenset({"topic"}))]
    assert kinds == ["genre not asked for", "era", "topic not understood"]
    dropped = misread(prefs, stated, topics=True, said_now=frozenset({"genre"}), held_before=True)
    assert dropped[-1][0] == "topic dropped when a genre was named"
    assert len(misread(prefs, stated, topics=True, said_now=frozenset({"era"}))) == 2  # nothing new lost
    right = Preferences(genres=["Comedy"], year_min=1990, year_max=1999, moods=["heist"])
    assert misread(right, stated, topics=True, said_now=frozenset({"topic"})) == []


def test_generated_requests_each_have_fitting_titles_in_the_catalog() -> None:
    titles = {
        i: Title(i, f"Film {i}", 1950 + i % 70, (g,), runtime=80 + i % 60)
        for i, g in enumerate(["Comedy", "Drama", "Horror", "Sci-Fi", "Romance"] * 200)
    }
    requests = generate(titles, {}, seed=1)
    assert len(requests) >= 10
    for request in requests:
        fitting = [t for t in titles.values() if request.expected.satisfied_by(t, t.id)]
        assert len(fitting) >= 5, request.text
        assert not request.expected.empty(), request.text


def test_cli_rejects_an_unknown_dataset_in_one_line() -> None:
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    result = CliRunner().invoke(app, ["eval-chat", "--dataset", "ml-25m"])
    assert result.exit_code == 2
    assert "unknown dataset 'ml-25m'" in result.stderr and "Traceback" not in result.output


# -- a real run on a slice -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def period(
    small_slice_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Dataset, Split, Engine]]:
    settings = Settings(
        data_dir=small_slice_dir,
        artifacts_dir=tmp_path_factory.mktemp("chat-artifacts"),
        state_dir=tmp_path_factory.mktemp("chat-state"),
    )
    dataset = load_dataset("ml-latest-small", small_slice_dir)
    split = temporal_split(dataset.interactions)
    with assemble(settings, dataset.name, dataset=dataset, period=split) as engine:
        yield dataset, split, engine


@pytest.mark.realdata
@pytest.mark.slow
def test_the_evaluation_engine_knows_nothing_after_the_cut(period: tuple[Dataset, Split, Engine]) -> None:
    dataset, split, engine = period
    assert split.cut is not None
    assert int(engine.interactions().timestamps.max()) < split.cut
    assert len(engine.interactions()) < len(dataset.interactions)
    for user, targets in split.test.items():
        assert not set(engine.context_for(user).history.items.tolist()) & targets


@pytest.mark.realdata
@pytest.mark.slow
def test_a_short_run_reports_every_figure_in_range(
    period: tuple[Dataset, Split, Engine], tmp_path: Path
) -> None:
    dataset, split, engine = period
    assistant = Assistant(engine, ConversationStore(tmp_path / "conversations.sqlite"))
    try:
        found = evaluate(assistant, dataset, split, sessions=4, seed=42, phrases=PHRASES, transcripts=1)
        result = json.loads(json.dumps(found))
    finally:
        assistant.close()
    assert set(KEYS) <= set(result)
    assert result["sessions"] == 4
    assert 0.0 <= result["hit_rate"] <= 1.0 and 1.0 <= result["mean_turns"] <= TURNS
    assert 0.0 <= result["constraint_satisfaction"] <= 1.0
    assert result["invented_titles"] == 0  # the offline policy names only what the engine returned
    assert result["repeated_seen"] >= 0 and result["p95_turn_ms"] > 0
    assert set(result["baselines"]) == {"popular", "engine_rows", "dialogue"}
    for figures in result["baselines"].values():
        assert set(figures) == {"hit@5", "hit@25"} and all(0.0 <= v <= 1.0 for v in figures.values())
    suite = result["single_turn"]
    assert suite["requests"] >= 1 and 0.0 <= suite["constraint_satisfaction"] <= 1.0
    assert 0.0 <= suite["tool_call_validity"] <= 1.0 and suite["tool_calls"] >= suite["requests"]
    transcript = result["transcripts"][0]
    assert transcript["turns"] and not says_title(
        transcript["turns"][0]["user"], _by_name(dataset, transcript)
    )
    assert "hit rate" in table({"dataset": "x", "split": "temporal", "seconds": 1.0, **result})


def _by_name(dataset: Dataset, transcript: dict) -> Title:
    return next(t for t in dataset.titles.values() if t.display_name == transcript["target"])
