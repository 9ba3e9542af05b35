"""Two engines on one PostgreSQL database, each with a state folder of its own (two replicas, as the
composition root wires them): what one writes, the other reads. Over the session's loaded engine
(`over_state`), so no second load."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from catalog import Context, Event, EventKind
from engine import Engine, ExperimentSettings, over_state
from engine.experiments import report

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
AB = ExperimentSettings(name="shared", arms=["ranker", "candidate_order"])


@pytest.fixture
def replicas(engine: Engine, postgres_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    opened = [
        over_state(
            engine,
            engine.settings().model_copy(
                update={"database_url": SecretStr(postgres_url), "state_dir": tmp_path / name}
            ),
        )
        for name in ("a", "b")
    ]
    yield opened[0], opened[1]
    for replica in opened:
        replica.close()


def test_replicas_share_conversations_bandit_counts_and_the_page_log(
    replicas: tuple[Engine, Engine], postgres_url: str, tmp_path: Path
) -> None:
    a, b = replicas
    profile = a.accounts().create_profile(a.accounts().create_account("home").id, "Ada").id

    a.conversations().save(profile, "c1", '{"shown": [1, 2]}')
    assert b.conversations().get(profile, "c1") == '{"shown": [1, 2]}'

    title = sorted(a.titles())[0]
    for replica, name in ((a, "a"), (b, "b")):
        seen = Event(f"{name}-seen", profile, title, EventKind.IMPRESSION, ts=1.0, row="trending:0")
        replica.record([seen])
    b._state.row_order.refresh()  # what a replica does on its own every few seconds
    assert b._state.row_order.posterior("new", "trending") == (1.0, 3.0)  # A's failure and its own

    context = Context(profile_id=profile, history=a.profile_context(profile).history)
    for replica in (a, b):
        replica.rows(context, arm="candidate_order", experiment=AB)
    arms = report(tmp_path, AB, database_url=postgres_url)["arms"]
    assert arms["candidate_order"]["pages"] == 2 and arms["candidate_order"]["impressions"] == 0
    assert not list(tmp_path.rglob("*.sqlite"))  # nothing went to the state folders
