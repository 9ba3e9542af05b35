"""Page drafts in worker processes: the same pages as drafts made in the serving process, and a page for
every request while workers start, fail or die."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine import Engine, Settings, assemble
from engine.assembly import worker_engine
from engine.homepage import Draft
from engine.indexes import open_replica
from engine.pages import PageWorkers
from engine.trace import Trace
from tests.conftest import DATASET, REPO_ROOT

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def served(api_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An engine with one page worker beside the session's engine, which holds the index: this one
    opens a copy, as its worker does."""
    settings = api_settings.model_copy(
        update={"page_workers": 1, "state_dir": tmp_path_factory.mktemp("pages-state")}
    )
    index = open_replica(settings, DATASET, tmp_path_factory.mktemp("pages-index"))
    eng = assemble(settings, DATASET, index=index)
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
    assert served._drafts is not None
    _until(served._drafts, "ready")
    users = served.interactions().user_ids()[:4]
    for user, arm in zip(users, [None, None, "candidate_order", "diversity_0.6"], strict=True):
        context = served.context_for(int(user))
        experiment = served.settings().experiment
        there = served._drafts.draft(context, arm=arm, experiment=experiment, local=_not_here)
        here = served._homepage.draft(context, arm=arm, experiment=experiment, trace=Trace())
        assert there == here and there.rows
        assert set(there.stages) >= {"candidates", "rank", "rows"}  # the worker's timings come back
    with TestClient(create_app(engine=served)) as client:
        assert client.get("/readyz").json()["page_workers"] == "ready"
    # A whole page, drafted by the worker and presented here, is the page made here from start to end.
    context = served.context_for(int(users[0]))
    drafted_there = served.rows(context)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(served, "_drafts", None)
        assert drafted_there == served.rows(context)


def test_a_dead_worker_is_replaced_and_meanwhile_pages_are_drafted_here(served: Engine) -> None:
    assert served._drafts is not None
    _until(served._drafts, "ready")
    context = served.context_for(int(served.interactions().user_ids()[5]))
    experiment = served.settings().experiment
    expected = served._homepage.draft(context, arm=None, experiment=experiment, trace=Trace())
    for child in multiprocessing.active_children():
        child.kill()
        child.join(10)
    drafted_here = []

    def here() -> Draft:
        drafted_here.append(True)
        return served._homepage.draft(context, arm=None, experiment=experiment, trace=Trace())

    assert served._drafts.draft(context, arm=None, experiment=experiment, local=here) == expected
    assert drafted_here == [True]
    _until(served._drafts, "ready")  # fresh workers took over
    assert served._drafts.draft(context, arm=None, experiment=experiment, local=_not_here) == expected


def test_a_draft_that_fails_in_a_worker_is_made_here_and_the_workers_stay(served: Engine) -> None:
    assert served._drafts is not None
    _until(served._drafts, "ready")
    context = served.context_for(int(served.interactions().user_ids()[0]))
    # "interleaved" needs an interleave experiment: the worker's draft raises, as one made here would.
    with pytest.raises(ValueError, match="interleave experiment"):
        served._drafts.draft(
            context,
            arm="interleaved",
            experiment=served.settings().experiment,
            local=lambda: served.draft(context, "interleaved", experiment=served.settings().experiment),
        )
    assert served._drafts.status == "ready"  # an error of the draft, not of the worker: no restart


def test_workers_that_cannot_start_leave_every_draft_to_the_serving_process(
    served: Engine, tmp_path: Path
) -> None:
    broken = served.settings().model_copy(update={"artifacts_dir": tmp_path / "nothing-built-here"})
    pages = PageWorkers(broken, DATASET, 1, loader=worker_engine)
    try:
        _until(pages, "failed")
        context = served.context_for(int(served.interactions().user_ids()[0]))
        experiment = served.settings().experiment
        expected = served._homepage.draft(context, arm=None, experiment=experiment, trace=Trace())
        drafted = pages.draft(
            context,
            arm=None,
            experiment=experiment,
            local=lambda: served._homepage.draft(context, arm=None, experiment=experiment, trace=Trace()),
        )
        assert drafted == expected
    finally:
        pages.close()


SERVER = """
import multiprocessing, sys, time
from engine import Settings
from engine.assembly import worker_engine
from engine.pages import PageWorkers

if __name__ == "__main__":
    pages = PageWorkers(Settings(), sys.argv[1], 1, loader=worker_engine)
    while pages.status == "starting":
        time.sleep(0.1)
    print(pages.status, *[child.pid for child in multiprocessing.active_children()], flush=True)
    time.sleep(600)
"""


def test_workers_leave_when_their_serving_process_dies(api_settings: Settings, tmp_path: Path) -> None:
    script = tmp_path / "serve.py"
    script.write_text(SERVER)
    env = {
        **os.environ,
        "MARQUEE_DATA_DIR": str(api_settings.data_dir),
        "MARQUEE_ARTIFACTS_DIR": str(api_settings.artifacts_dir),
        "MARQUEE_STATE_DIR": str(tmp_path / "state"),
        "PYTHONPATH": str(REPO_ROOT),
    }
    with subprocess.Popen(
        [sys.executable, str(script), DATASET], stdout=subprocess.PIPE, text=True, env=env
    ) as server:
        try:
            assert server.stdout is not None
            status, *pids = server.stdout.readline().split()
            assert status == "ready" and pids
        finally:
            server.kill()  # no shutdown, no cleanup: as if the server crashed
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in pids):
        assert time.monotonic() < deadline, f"page workers {pids} outlived their server"
        time.sleep(0.1)


def test_a_second_server_on_one_machine_serves_a_copy_of_the_held_shard(
    engine: Engine, api_settings: Settings, tmp_path: Path
) -> None:
    """The session engine holds the Edge shard; a second one (a replica) serves from its own copy, which
    it removes when it closes."""
    replica_settings = api_settings.model_copy(update={"state_dir": tmp_path / "state"})
    replicas = replica_settings.dataset_state(DATASET) / "replicas"
    second = assemble(replica_settings, DATASET)
    try:
        copies = [p for p in replicas.iterdir() if p.is_dir()]
        assert len(copies) == 1 and (copies[0] / "qdrant").is_dir()
        context = engine.context_for(1)
        assert [r.title.id for r in second.recommend(context, k=5)] == [
            r.title.id for r in engine.recommend(context, k=5)
        ]
    finally:
        second.close()
    assert not [p for p in replicas.iterdir() if p.is_dir()]
