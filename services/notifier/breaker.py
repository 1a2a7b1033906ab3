"""A circuit breaker per channel: stop calling a channel that keeps failing, probe it now and then.

- closed: every send goes through; `failure_threshold` consecutive failures open it.
- open: no send is attempted (the notifier puts notifications in the retry table instead) until
  `cool_down_s` has passed since it opened.
- half-open: one send, the probe, goes through; its success closes the breaker, its failure opens
  it again for another cool-down. A probe that never reports back (its task died) is presumed lost
  after a cool-down, and another probe may go.

Any answer from the channel counts as a success, a refusal included (the channel is working; the
message was at fault); only "unavailable" counts as a failure. Pure and in-process: each notifier
process learns the state of its channels on its own. The clock is injected (monotonic seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class Permit:
    """Leave to send once; `probe` when it is the one try a half-open breaker lets through."""

    probe: bool


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int,
        cool_down_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.cool_down_s = cool_down_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_since: float | None = None

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self.cool_down_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def acquire(self) -> Permit | None:
        """Leave to send now, or None: the send must not be attempted."""
        state = self.state
        if state is BreakerState.CLOSED:
            return Permit(probe=False)
        if state is BreakerState.OPEN:
            return None
        now = self._clock()
        if self._probe_since is not None and now - self._probe_since < self.cool_down_s:
            return None  # the probe is out; wait for its answer
        self._probe_since = now
        return Permit(probe=True)

    def release(self, permit: Permit) -> None:
        """The permit was not used (nothing to send after all): another probe may go."""
        if permit.probe:
            self._probe_since = None

    def record_success(self) -> None:
        self.reset()

    def record_failure(self) -> None:
        self._failures += 1
        state = self.state
        if state is BreakerState.HALF_OPEN or (
            state is BreakerState.CLOSED and self._failures >= self.failure_threshold
        ):
            self._opened_at = self._clock()
            self._probe_since = None
        # Open: a send that was already in flight failed too; the cool-down is not extended.

    def reset(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probe_since = None
