"""When an unavailable channel is tried again, and when the notifier stops trying."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.notifier.retry import (
    EXPIRED,
    GiveUp,
    RetryAt,
    RetrySchedule,
    after_unavailable,
    before_send,
)
from services.notifier.settings import NotifierOptions

NOW = datetime(2026, 4, 2, 7, 0, tzinfo=UTC)
SCHEDULE = RetrySchedule(base_s=2.0, cap_s=60.0)


def test_the_ceiling_doubles_with_each_attempt_up_to_the_cap() -> None:
    assert [SCHEDULE.ceiling_s(attempt) for attempt in range(1, 9)] == [
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
        60.0,
        60.0,
        60.0,
    ]


def test_the_ceiling_stays_at_the_cap_however_many_attempts() -> None:
    assert SCHEDULE.ceiling_s(10_000) == 60.0
    assert SCHEDULE.ceiling_s(0) == 2.0, "no attempt made yet counts as the first"


@pytest.mark.parametrize(("jitter", "expected"), [(0.0, 4.0), (0.5, 6.0), (1.0, 8.0)])
def test_jitter_picks_between_half_and_all_of_the_ceiling(jitter: float, expected: float) -> None:
    assert SCHEDULE.delay_s(3, jitter) == pytest.approx(expected)


def test_jitter_out_of_range_is_clamped() -> None:
    assert SCHEDULE.delay_s(1, -1.0) == 1.0
    assert SCHEDULE.delay_s(1, 7.0) == 2.0


def test_the_delay_never_exceeds_the_cap() -> None:
    assert max(SCHEDULE.delay_s(attempt, 1.0) for attempt in range(1, 50)) == 60.0


def decide(attempt: int, *, max_attempts: int = 5, closes_in_s: float = 600) -> RetryAt | GiveUp:
    return after_unavailable(
        attempt=attempt,
        max_attempts=max_attempts,
        now=NOW,
        not_after=NOW + timedelta(seconds=closes_in_s),
        error="gateway answered 503: maintenance",
        schedule=SCHEDULE,
        jitter=1.0,
    )


def test_an_unavailable_channel_is_tried_again_after_the_backoff() -> None:
    assert decide(1) == RetryAt(NOW + timedelta(seconds=2))
    assert decide(4) == RetryAt(NOW + timedelta(seconds=16))


def test_the_last_allowed_attempt_gives_up_with_the_error() -> None:
    decision = decide(5, max_attempts=5)
    assert decision == GiveUp("given up after 5 attempts: gateway answered 503: maintenance")


def test_a_retry_that_would_come_after_the_offer_closed_is_not_scheduled() -> None:
    decision = decide(4, closes_in_s=10)
    assert isinstance(decision, GiveUp)
    assert decision.detail.startswith("closes before the next attempt (4 made)")


def test_before_send_refuses_a_closed_offer_and_too_many_attempts() -> None:
    later = NOW + timedelta(minutes=5)
    assert before_send(attempt=1, max_attempts=5, now=NOW, not_after=later) is None
    assert before_send(attempt=5, max_attempts=5, now=NOW, not_after=later) is None
    assert before_send(attempt=1, max_attempts=5, now=later, not_after=later) == EXPIRED
    assert (
        before_send(attempt=6, max_attempts=5, now=NOW, not_after=later)
        == "given up after 5 attempts"
    )


def test_the_settings_refuse_a_cap_below_the_base_and_a_lease_shorter_than_a_send() -> None:
    with pytest.raises(ValidationError, match="send_retry_cap_s"):
        NotifierOptions(send_retry_base_s=10, send_retry_cap_s=5)
    with pytest.raises(ValidationError, match="retry_lease_s"):
        NotifierOptions(sms_timeout_s=5, retry_lease_s=8)
    defaults = NotifierOptions()
    assert defaults.max_send_attempts > defaults.breaker_failures > 1
