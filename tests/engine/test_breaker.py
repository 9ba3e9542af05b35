"""The circuit breaker on a fake clock: opens after N consecutive failures, refuses while cooling down,
lets exactly one probe through when half-open, and closes or re-opens on the probe's outcome."""

from __future__ import annotations

import pytest

from engine.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_only() -> None:
    clock = Clock()
    breaker = CircuitBreaker("llm", failures=3, cool_down_s=30, clock=clock)
    breaker.failure()
    breaker.failure()
    breaker.success()  # a success in between resets the count
    breaker.failure()
    breaker.failure()
    assert breaker.state is BreakerState.CLOSED and breaker.admit().allowed
    breaker.failure()
    assert breaker.state is BreakerState.OPEN
    refused = breaker.admit()
    assert not refused.allowed and refused.retry_in_s == pytest.approx(30)
    clock.now += 20
    assert breaker.admit().retry_in_s == pytest.approx(10)
    assert breaker.open_for() == pytest.approx(10)
    clock.now += 11
    assert breaker.open_for() == 0 and breaker.state is BreakerState.HALF_OPEN  # asking admits nobody
    assert breaker.admit().probe


def test_a_failure_that_trips_opens_it_at_once() -> None:
    breaker = CircuitBreaker("llm", failures=5, cool_down_s=30, clock=Clock())
    breaker.failure(trip=True)  # a timeout: the caller already paid the whole wait
    assert breaker.state is BreakerState.OPEN


def test_half_open_lets_one_probe_through_and_its_outcome_decides() -> None:
    clock = Clock()
    breaker = CircuitBreaker("llm", failures=1, cool_down_s=30, clock=clock)
    breaker.failure()
    clock.now += 31
    assert breaker.state is BreakerState.HALF_OPEN
    probe = breaker.admit()
    assert probe.allowed and probe.probe
    assert not breaker.admit().allowed  # everyone else keeps the fast path while the probe runs
    breaker.failure()  # the probe failed: another full cool-down
    assert breaker.state is BreakerState.OPEN and breaker.admit().retry_in_s == pytest.approx(30)
    clock.now += 31
    assert breaker.admit().probe
    breaker.success()
    assert breaker.state is BreakerState.CLOSED and breaker.admit() == breaker.admit()


def test_a_probe_without_a_verdict_frees_the_next_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker("llm", failures=1, cool_down_s=5, clock=clock)
    breaker.failure()
    clock.now += 6
    assert breaker.admit().probe
    breaker.release()  # the caller was cancelled before the server answered
    assert breaker.admit().probe


@pytest.mark.parametrize("bad", [{"failures": 0}, {"cool_down_s": 0}])
def test_bad_settings_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="failures >= 1 and cool_down_s > 0"):
        CircuitBreaker("llm", **bad)  # type: ignore[arg-type]
