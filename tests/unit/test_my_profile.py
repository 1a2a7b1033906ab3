"""A volunteer's certificates, as they are told of them; quiet hours whole or not at all."""

from __future__ import annotations

from datetime import date, time

import pytest

from services.api.my_profile import (
    EXPIRING_DAYS,
    QuietHoursError,
    Standing,
    quiet_hours,
    standing_of,
)

ISSUED, EXPIRES = date(2025, 3, 1), date(2026, 3, 1)


@pytest.mark.parametrize(
    ("today", "standing", "days_left"),
    [
        (date(2025, 2, 28), Standing.NOT_YET, 366),
        (date(2025, 6, 1), Standing.VALID, 273),
        (date(2026, 1, 30), Standing.VALID, EXPIRING_DAYS),  # a month ahead: not yet a warning
        (date(2026, 1, 31), Standing.EXPIRING, 29),
        (date(2026, 3, 1), Standing.EXPIRING, 0),
        (date(2026, 3, 2), Standing.EXPIRED, -1),
    ],
)
def test_a_certificate_is_good_through_its_last_day_and_warns_a_month_ahead(
    today: date, standing: Standing, days_left: int
) -> None:
    found = standing_of(ISSUED, EXPIRES, today=today)
    assert (found.standing, found.days_left) == (standing, days_left)


def test_quiet_hours_are_whole_and_may_run_past_midnight() -> None:
    assert quiet_hours(time(22), time(7)) == (time(22), time(7))
    assert quiet_hours(None, None) == (None, None)
    with pytest.raises(QuietHoursError):
        quiet_hours(time(22), None)
    with pytest.raises(QuietHoursError):
        quiet_hours(time(22), time(22))
