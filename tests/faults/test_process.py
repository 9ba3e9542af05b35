"""Process faults against a real server (`marquee serve` in a subprocess): kill -9 during writes, SIGTERM
with requests in flight. Slow: run with `make test-faults` (pytest -m faults)."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from catalog import EventStore
from catalog.pg_events import PostgresStore
from engine import Settings
from engine.pages import SCRATCH_DIR
from tests.conftest import DATASET
from tests.faults.servers import Server, serve, signup

# Each test starts servers: minutes each on a busy machine.
pytestmark = [pytest.mark.faults, pytest.mark.realdata, pytest.mark.slow, pytest.mark.timeout(2400)]


def _stored(state: Path, profile: str) -> list[str]:
    path = state / DATASET / "events.sqlite"
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with EventStore(path) as store:
        return [e.event_id for e in store.events(profile)]


def _write_until_killed(server: Server, headers: dict[str, str], profile: str) -> list[str]:
    """Three writers post batches for 3 s, then the server gets kill -9: the event ids acknowledged."""
    acked: list[str] = []
    stop = threading.Event()

    def write(writer: int) -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
            for batch in range(100_000):
                ids = [f"{writer}-{batch}-{j}" for j in range(5)]
                events = [{"event_id": i, "title_id": 1, "kind": "impression"} for i in ids]
                try:
                    r = client.post(f"/v1/profiles/{profile}/events", json={"events": events})
                except httpx.TransportError:
                    return  # the server is gone
                if r.status_code == 200:
                    acked.extend(ids)
                if stop.is_set():
                    return

    writers = [threading.Thread(target=write, args=(w,)) for w in range(3)]
    for w in writers:
        w.start()
    time.sleep(3.0)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(30)
    stop.set()
    for w in writers:
        w.join(30)
    return acked


def test_kill9_during_writes_loses_nothing_acknowledged_and_leaves_no_shard_copies(
    api_settings: Settings, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    with serve(api_settings, state, page_workers=1) as server:
        assert server.loading_when_live  # /livez answered while the engine was still loading
        headers, profile = signup(server.url)
        acked = _write_until_killed(server, headers, profile)
    scratch = state / DATASET / SCRATCH_DIR
    left_by_dead = {p.name for p in scratch.iterdir()}
    assert left_by_dead  # what kill -9 leaves: the dead server's folder (and its lock)
    with serve(api_settings, state) as again:  # no page workers: nothing of its own in the scratch folder
        assert again.proc.poll() is None
    assert not ({p.name for p in scratch.iterdir()} & left_by_dead)
    stored = _stored(state, profile)
    assert acked and not set(acked) - set(stored)  # 0 missing
    assert len(stored) == len(set(stored))  # 0 duplicates


def test_kill9_during_writes_on_postgresql_loses_nothing_acknowledged(
    api_settings: Settings, postgres_url: str, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    with serve(api_settings, state, extra_env={"MARQUEE_DATABASE_URL": postgres_url}) as server:
        headers, profile = signup(server.url)
        acked = _write_until_killed(server, headers, profile)
    with PostgresStore(postgres_url) as store:
        stored = [e.event_id for e in store.events(profile)]
    assert acked and not set(acked) - set(stored)  # 0 missing
    assert len(stored) == len(set(stored))  # 0 duplicates
    assert not (state / DATASET / "events.sqlite").exists()  # they went to PostgreSQL, not beside the server


def test_sigterm_with_requests_in_flight_answers_every_accepted_request(
    api_settings: Settings, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    outcomes: list[str] = []
    with serve(api_settings, state) as server:
        headers, profile = signup(server.url)
        start = threading.Barrier(21)

        def request(n: int) -> None:
            events = [{"event_id": f"t-{n}", "title_id": 1, "kind": "complete"}]
            with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
                start.wait()
                try:
                    r = client.post(f"/v1/profiles/{profile}/events", json={"events": events})
                    outcomes.append(f"{r.status_code}:t-{n}")
                except httpx.ConnectError:
                    outcomes.append("refused")  # never accepted: the client may retry elsewhere
                except httpx.TransportError as exc:
                    outcomes.append(f"dropped:{type(exc).__name__}")

        threads = [threading.Thread(target=request, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        start.wait()
        time.sleep(0.05)
        server.proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(60)
        # uvicorn shuts down gracefully, then re-raises the signal so the exit status says why it stopped.
        assert server.proc.wait(300) in (0, -signal.SIGTERM)
    assert not [o for o in outcomes if o.startswith("dropped")], outcomes
    answered = {o.split(":")[1] for o in outcomes if o.startswith("200:")}
    assert answered and answered <= set(_stored(state, profile))
