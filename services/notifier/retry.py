"""When to try an unavailable channel again, and when to stop: pure decisions, no I/O.

A notification whose channel was unavailable (gateway 5xx, 408/429, timeout, Redis away) waits in
`notification_retries` until it is due. The wait doubles with each attempt made, from `base_s` up
to `cap_s`, and is jittered to between half and all of that ("equal jitter"): retries after an
outage spread out instead of arriving at the gateway together, yet never come back at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

EXPIRED: Final = "expired before it could be sent"


@dataclass(frozen=True)
class RetrySchedule:
    base_s: float
    cap_s: float

    def ceiling_s(self, attempt: int) -> float:
        """The longest wait after `attempt` tries (1 = the first send failed)."""
        return min(self.cap_s, self.base_s * 2.0 ** min(max(attempt, 1) - 1, 62))

    def delay_s(self, attempt: int, jitter: float) -> float:
        """The wait after `attempt` tries; `jitter` in [0, 1] picks it between half and all."""
        ceiling = self.ceiling_s(attempt)
        return ceiling * (0.5 + min(max(jitter, 0.0), 1.0) / 2)


@dataclass(frozen=True)
class RetryAt:
    due_at: datetime


@dataclass(frozen=True)
class GiveUp:
    detail: str


def before_send(
    *, attempt: int, max_attempts: int, now: datetime, not_after: datetime
) -> str | None:
    """Why a notification must not be sent now (reported `failed` instead), or None to send it."""
    if now >= not_after:
        return EXPIRED
    if attempt > max_attempts:
        return f"given up after {attempt - 1} attempts"
    return None


def after_unavailable(
    *,
    attempt: int,
    max_attempts: int,
    now: datetime,
    not_after: datetime,
    error: str,
    schedule: RetrySchedule,
    jitter: float,
) -> RetryAt | GiveUp:
    """Attempt `attempt` found the channel unavailable: when to try again, or why not to."""
    if attempt >= max_attempts:
        return GiveUp(f"given up after {attempt} attempts: {error}")
    due_at = now + timedelta(seconds=schedule.delay_s(attempt, jitter))
    if due_at >= not_after:
        return GiveUp(f"closes before the next attempt ({attempt} made): {error}")
    return RetryAt(due_at)
