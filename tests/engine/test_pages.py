"""Page drafts in worker processes: the same pages as drafts made in the serving process, and a page for
every request while workers start, fail or die."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine, Settings
from engine.homepage import Draft
from engine.indexes import open_replica
from engine.pages import PageWorkers
from engine.trace import Trace
from tests.conftest import DATASET

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def served(api_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An engine with one page worker beside the session's engine, which holds the index: this one
    opens a copy, as its worker does."""
    settings = api_settings.model_copy(
        update={"page_workers": 1, "state_dir": tmp_path_factory.mktemp("pages-state")}
    )
    index = open_replica(settings, DATASET, tmp_path_factory.mktemp("pages-index"))
    eng = Engine.load(settings, DATASET, index=index)
    yield eng
    eng.close()


def _until(pages: PageWorkers, status: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while pages.status != status:
        assert time.monotonic() < deadline, f"page workers still {pages.status!r}, not {status!r}"
        time.sleep(0.1)


def _not_here() -> Draft:
    raise AssertionError("drafted in the serving process, not by a worker")


def test_worker_drafts_are_the_drafts_made_here(served: Engine) -> None:
    assert served.pages is not None
    _until(served.pages, "ready")
    users = served.dataset.interactions.user_ids()[:4]
    for user, arm in zip(users, [None, None, "candidate_order", "diversity_0.6"], strict=True):
        context = served.context_for(int(user))
        experiment = served.settings.experiment
        there = served.pages.draft(context, arm=arm, experiment=experiment, local=_not_here)
        here = served.homepage.draft(context, arm=arm, experiment=experiment, trace=Trace())
        assert there == here and there.rows
        assert set(there.stages) >= {"candidates", "rank", "rows"}  # the worker's timings come back
    # A whole page, drafted by the worker and presented here, is the page made here from start to end.
    context = served.context_for(int(users[0]))
    assert served.rows(context) == served.homepage.rows(
        context, arm=None, experiment=served.settings.experiment, trace=Trace()
    )


def test_a_dead_worker_is_replaced_and_meanwhile_pages_are_drafted_here(served: Engine) -> None:
    assert served.pages is not None
    _until(served.pages, "ready")
    context = served.context_for(int(served.dataset.interactions.user_ids()[5]))
    experiment = served.settings.experiment
    expected = served.homepage.draft(context, arm=None, experiment=experiment, trace=Trace())
    for child in multiprocessing.active_children():
        child.kill()
        child.join(10)
    drafted_here = []

    def here() -> Draft:
        drafted_here.append(True)
        return served.homepage.draft(context, arm=None, experiment=experiment, trace=Trace())

    assert served.pages.draft(context, arm=None, experiment=experiment, local=here) == expected
    assert drafted_here == [True]
    _until(served.pages, "ready")  # fresh workers took over
    assert served.pages.draft(context, arm=None, experiment=experiment, local=_not_here) == expected


def test_workers_that_cannot_start_leave_every_draft_to_the_serving_process(
    served: Engine, tmp_path: Path
) -> None:
    broken = served.settings.model_copy(update={"artifacts_dir": tmp_path / "nothing-built-here"})
    pages = PageWorkers(broken, DATASET, 1)
    try:
        _until(pages, "failed")
        context = served.context_for(int(served.dataset.interactions.user_ids()[0]))
        experiment = served.settings.experiment
        expected = served.homepage.draft(context, arm=None, experiment=experiment, trace=Trace())
        drafted = pages.draft(
            context,
            arm=None,
            experiment=experiment,
            local=lambda: served.homepage.draft(context, arm=None, experiment=experiment, trace=Trace()),
        )
        assert drafted == expected
    finally:
        pages.close()
