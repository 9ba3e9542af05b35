"""Work a request leaves behind: run on a few threads, bounded, failures logged and never raised."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from api.runtime import Background


def test_jobs_run_until_too_many_are_pending_then_are_dropped() -> None:
    background = Background(threads=1, max_pending=2)
    release, ran = threading.Event(), []
    assert background.submit(lambda: release.wait(5))
    assert background.submit(lambda: ran.append("second"))
    assert not background.submit(lambda: ran.append("dropped"))  # two pending: the third is dropped
    release.set()
    background.close()  # finishes what was queued
    assert ran == ["second"]
    assert not background.submit(lambda: ran.append("late"))  # closed: refused, not raised
    assert ran == ["second"]


def test_a_failing_job_is_logged_and_frees_its_place(caplog: pytest.LogCaptureFixture) -> None:
    background = Background(threads=1, max_pending=1)
    ran = threading.Event()
    with caplog.at_level(logging.WARNING, logger="marquee.api"):
        assert background.submit(lambda: 1 / 0)
        deadline = time.monotonic() + 5
        while not background.submit(ran.set):  # refused only while the failed job holds the one place
            assert time.monotonic() < deadline
            time.sleep(0.01)
        background.close()
    assert ran.is_set()
    assert "background job failed: ZeroDivisionError" in caplog.text
