"""What a volunteer sees of themselves: their certificates' standing, their availability (pure).

A certificate is *valid*, *expiring* (within `EXPIRING_DAYS`: time to book the refresher course),
*expired*, or *not yet* valid, on the volunteer's day in Kazakhstan — the day matching judges it by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum

EXPIRING_DAYS = 30


class Standing(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    NOT_YET = "not_yet"


@dataclass(frozen=True, slots=True)
class CertificateStanding:
    standing: Standing
    days_left: int
    """Days until it lapses (0 on its last day; negative once expired)."""


def standing_of(issued_on: date, expires_on: date, *, today: date) -> CertificateStanding:
    """A certificate is good through `expires_on` itself, as eligibility reads it."""
    days_left = (expires_on - today).days
    if today < issued_on:
        return CertificateStanding(Standing.NOT_YET, days_left)
    if days_left < 0:
        return CertificateStanding(Standing.EXPIRED, days_left)
    if days_left < EXPIRING_DAYS:
        return CertificateStanding(Standing.EXPIRING, days_left)
    return CertificateStanding(Standing.VALID, days_left)


class QuietHoursError(ValueError):
    """Quiet hours need both ends, and two different ones."""


def quiet_hours(start: time | None, end: time | None) -> tuple[time | None, time | None]:
    """Both ends or neither; an end equal to its start would silence the whole day (say off duty
    instead). Hours may run past midnight (22:00–07:00)."""
    if (start is None) != (end is None):
        raise QuietHoursError("quiet hours need both a start and an end, or neither")
    if start is not None and start == end:
        raise QuietHoursError("quiet hours need a start and a different end, or neither")
    return start, end
