"""Arriving at and leaving the scene, from fixes (with hysteresis, imprecise fixes ignored) and
from what the volunteer says."""

from __future__ import annotations

import pytest

from services.tracker.field import ARRIVE_M, LEAVE_M, Reading, next_status, said_status
from shared.events.tracking import FieldStatus

EN_ROUTE, ON_SCENE, LEFT = FieldStatus.EN_ROUTE, FieldStatus.ON_SCENE, FieldStatus.LEFT_AREA
FAR_FROM_AREA = 10_000.0


@pytest.mark.parametrize(
    ("status", "reading", "after"),
    [
        (EN_ROUTE, Reading(5_000, FAR_FROM_AREA), EN_ROUTE),
        (EN_ROUTE, Reading(ARRIVE_M - 1, FAR_FROM_AREA), ON_SCENE),
        (EN_ROUTE, Reading(3_000, 0.0), ON_SCENE),  # inside the area: there already
        (ON_SCENE, Reading(1_000, 800.0), ON_SCENE),  # between the thresholds: stays
        (ON_SCENE, Reading(LEAVE_M + 1, 600.0), LEFT),
        (ON_SCENE, Reading(LEAVE_M + 1, 100.0), ON_SCENE),  # still by the area's edge
        (LEFT, Reading(1_000, 800.0), LEFT),  # coming back, not there yet
        (LEFT, Reading(100, FAR_FROM_AREA), ON_SCENE),
    ],
)
def test_a_fix_moves_a_volunteer_on_scene_and_off_it(
    status: FieldStatus, reading: Reading, after: FieldStatus
) -> None:
    assert next_status(status, reading) is after


def test_an_imprecise_fix_decides_nothing() -> None:
    vague = Reading(10, FAR_FROM_AREA, accuracy_m=1_500)
    assert next_status(EN_ROUTE, vague) is EN_ROUTE
    assert next_status(ON_SCENE, Reading(50_000, 50_000, accuracy_m=900)) is ON_SCENE


def test_walking_the_edge_does_not_flicker() -> None:
    status = EN_ROUTE
    seen = []
    for distance in (400, 290, 350, 600, 1_500, 1_900, 1_000, 250):
        status = next_status(status, Reading(distance, FAR_FROM_AREA))
        seen.append(status)
    assert seen.count(ON_SCENE) == 7 and LEFT not in seen


@pytest.mark.parametrize(
    ("before", "said", "after"),
    [
        (FieldStatus.EN_ROUTE, FieldStatus.EN_ROUTE, FieldStatus.EN_ROUTE),
        (FieldStatus.EN_ROUTE, FieldStatus.ON_SCENE, FieldStatus.ON_SCENE),
        (FieldStatus.EN_ROUTE, FieldStatus.LEFT_AREA, FieldStatus.LEFT_AREA),
        # Already there by their fixes: "on the way" is a slip of the finger, not news.
        (FieldStatus.ON_SCENE, FieldStatus.EN_ROUTE, FieldStatus.ON_SCENE),
        (FieldStatus.ON_SCENE, FieldStatus.LEFT_AREA, FieldStatus.LEFT_AREA),
        # Gone, and heading back: they are on their way again, then there again.
        (FieldStatus.LEFT_AREA, FieldStatus.EN_ROUTE, FieldStatus.EN_ROUTE),
        (FieldStatus.LEFT_AREA, FieldStatus.ON_SCENE, FieldStatus.ON_SCENE),
    ],
)
def test_what_a_volunteer_says_is_taken_as_a_fix_would_be(
    before: FieldStatus, said: FieldStatus, after: FieldStatus
) -> None:
    assert said_status(before, said) is after
