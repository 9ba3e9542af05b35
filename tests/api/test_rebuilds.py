"""Rebuilds after writes: writes that wait for the same page share one rebuild that starts after all of
them; one that comes after a rebuild started gets its own."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.rebuilds import RebuildFailed, Rebuilds


def _until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_writes_waiting_for_a_slot_share_the_rebuild_and_a_later_one_gets_its_own() -> None:
    rebuilds = Rebuilds(slots=1)
    history: list[str] = []  # what the profile holds: the writes committed so far
    built: list[list[str]] = []  # what each rebuild read
    release = threading.Event()
    started: list[str] = []

    def blocker() -> str:  # another page's rebuild holds the one slot
        started.append("blocker")
        release.wait(5)
        return "other page"

    def compute() -> list[str]:
        started.append("page")
        built.append(list(history))
        return list(history)

    with ThreadPoolExecutor(4) as pool:
        pool.submit(rebuilds.run, "b", None, blocker)
        _until(lambda: started == ["blocker"])
        answers = []
        for write in ("w1", "w2", "w3"):  # each committed, then waiting for a rebuild of page ("a", None)
            history.append(write)
            answers.append(pool.submit(rebuilds.run, "a", None, compute))
        time.sleep(0.2)  # the writers are waiting by now
        release.set()
        assert [a.result(5) for a in answers] == [["w1", "w2", "w3"]] * 3
        assert built == [["w1", "w2", "w3"]]  # one rebuild, after all three writes
        history.append("w4")  # after that rebuild started: it needs one of its own
        assert rebuilds.run("a", None, compute) == ["w1", "w2", "w3", "w4"]
    assert len(built) == 2


def test_writes_that_joined_a_failed_rebuild_fail_with_it() -> None:
    rebuilds = Rebuilds(slots=1)
    release = threading.Event()

    def blocker() -> None:
        release.wait(5)

    def broken() -> None:
        raise RuntimeError("ranker blew up")

    with ThreadPoolExecutor(3) as pool:
        pool.submit(rebuilds.run, "b", None, blocker)
        time.sleep(0.2)  # the blocker holds the slot
        leader = pool.submit(rebuilds.run, "a", None, broken)
        time.sleep(0.2)  # the leader waits for the slot
        joined = pool.submit(rebuilds.run, "a", None, broken)
        time.sleep(0.2)  # the second write joined it
        release.set()
        with pytest.raises(RuntimeError, match="ranker blew up"):
            leader.result(5)
        with pytest.raises(RebuildFailed, match="ranker blew up"):
            joined.result(5)
    assert rebuilds.run("a", None, lambda: "fine again") == "fine again"
