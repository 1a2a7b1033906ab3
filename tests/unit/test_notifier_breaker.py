"""The per-channel circuit breaker, on a fake clock: closed → open → half-open → closed or open."""

from __future__ import annotations

import pytest

from services.notifier.breaker import BreakerState, CircuitBreaker, Permit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def breaker(clock: FakeClock, *, failures: int = 3, cool_down_s: float = 30.0) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=failures, cool_down_s=cool_down_s, clock=clock)


def state(circuit: CircuitBreaker) -> BreakerState:
    """The state now (a call, so the type checker does not carry an earlier answer forward)."""
    return circuit.state


def test_it_starts_closed_and_lets_every_send_through(clock: FakeClock) -> None:
    circuit = breaker(clock)
    assert state(circuit) is BreakerState.CLOSED
    assert [circuit.acquire() for _ in range(5)] == [Permit(probe=False)] * 5


def test_it_opens_after_n_consecutive_failures_and_then_refuses(clock: FakeClock) -> None:
    circuit = breaker(clock, failures=3)
    circuit.record_failure()
    circuit.record_failure()
    assert state(circuit) is BreakerState.CLOSED
    circuit.record_failure()
    assert state(circuit) is BreakerState.OPEN
    assert circuit.acquire() is None
    clock.advance(29.9)
    assert circuit.acquire() is None, "still cooling down"


def test_a_success_resets_the_count_of_failures_in_a_row(clock: FakeClock) -> None:
    circuit = breaker(clock, failures=3)
    circuit.record_failure()
    circuit.record_failure()
    circuit.record_success()
    circuit.record_failure()
    circuit.record_failure()
    assert state(circuit) is BreakerState.CLOSED
    assert circuit.consecutive_failures == 2


def test_after_the_cool_down_one_probe_goes_through(clock: FakeClock) -> None:
    circuit = breaker(clock, failures=1, cool_down_s=30)
    circuit.record_failure()
    clock.advance(30)
    assert state(circuit) is BreakerState.HALF_OPEN
    assert circuit.acquire() == Permit(probe=True)
    assert circuit.acquire() is None, "one probe at a time"
    assert circuit.acquire() is None


def test_a_probe_that_succeeds_closes_the_breaker(clock: FakeClock) -> None:
    circuit = breaker(clock, failures=1)
    circuit.record_failure()
    clock.advance(30)
    assert circuit.acquire() == Permit(probe=True)
    circuit.record_success()
    assert state(circuit) is BreakerState.CLOSED
    assert circuit.acquire() == Permit(probe=False)
    assert circuit.consecutive_failures == 0


def test_a_probe_that_fails_opens_it_again_for_another_cool_down(clock: FakeClock) -> None:
    circuit = breaker(clock, failures=2, cool_down_s=30)
    circuit.record_failure()
    circuit.record_failure()
    clock.advance(31)
    assert circuit.acquire() == Permit(probe=True)
    circuit.record_failure()
    assert state(circuit) is BreakerState.OPEN
    assert circuit.acquire() is None
    clock.advance(29)
    assert state(circuit) is BreakerState.OPEN
    clock.advance(1)
    assert state(circuit) is BreakerState.HALF_OPEN
    assert circuit.acquire() == Permit(probe=True)


def test_failures_of_sends_already_in_flight_do_not_extend_the_cool_down(clock: FakeClock) -> None:
    circuit = breaker(clock, failures=1, cool_down_s=30)
    circuit.record_failure()
    clock.advance(20)
    circuit.record_failure()  # started before the breaker opened
    clock.advance(10)
    assert state(circuit) is BreakerState.HALF_OPEN


def test_an_unused_probe_is_released_for_the_next_caller(clock: FakeClock) -> None:
    circuit = breaker(clock, failures=1)
    circuit.record_failure()
    clock.advance(30)
    probe = circuit.acquire()
    assert probe is not None
    circuit.release(probe)
    assert circuit.acquire() == Permit(probe=True)


def test_releasing_a_closed_permit_does_not_free_the_probe(clock: FakeClock) -> None:
    circuit = breaker(clock, failures=1)
    ordinary = circuit.acquire()
    assert ordinary == Permit(probe=False)
    circuit.record_failure()
    clock.advance(30)
    assert circuit.acquire() == Permit(probe=True)
    circuit.release(ordinary)
    assert circuit.acquire() is None, "the probe is still out"


def test_a_probe_that_never_reports_is_presumed_lost_after_a_cool_down(clock: FakeClock) -> None:
    circuit = breaker(clock, failures=1, cool_down_s=30)
    circuit.record_failure()
    clock.advance(30)
    assert circuit.acquire() == Permit(probe=True)
    clock.advance(29)
    assert circuit.acquire() is None
    clock.advance(1)
    assert circuit.acquire() == Permit(probe=True)


def test_a_threshold_below_one_is_refused(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        breaker(clock, failures=0)
