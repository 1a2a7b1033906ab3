"""Whether a deployed volunteer has reached the scene or left it — pure.

A volunteer is *on scene* once a fix places them within `ARRIVE_M` of the meeting point, or inside
the incident's area; they have *left* once a fix places them more than `LEAVE_M` from the meeting
point and more than `AREA_MARGIN_M` outside the area. The gap between the two is the hysteresis
that keeps a volunteer walking the edge from arriving and leaving at every fix. A fix less precise
than `MAX_ACCURACY_M` decides nothing (it is still kept in the track).

A volunteer may also say where they are (`said_status`): on the way, on scene, leaving. What they
say is taken as a fix that showed it would be — Jedel believes the person over a missing fix —
except "on the way" from someone already on scene, which is a slip of the finger, not news.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.events.tracking import FieldStatus

ARRIVE_M = 300.0
LEAVE_M = 2_000.0
AREA_MARGIN_M = 500.0
MAX_ACCURACY_M = 200.0


@dataclass(frozen=True, slots=True)
class Reading:
    """One fix, measured against the scene."""

    to_meeting_point_m: float
    to_area_m: float  # 0 inside the area
    accuracy_m: float | None = None


def next_status(status: FieldStatus, reading: Reading) -> FieldStatus:
    """The status after this fix (the same one when it changes nothing)."""
    if reading.accuracy_m is not None and reading.accuracy_m > MAX_ACCURACY_M:
        return status
    near = reading.to_meeting_point_m <= ARRIVE_M or reading.to_area_m <= 0.0
    gone = reading.to_meeting_point_m > LEAVE_M and reading.to_area_m > AREA_MARGIN_M
    if status is FieldStatus.ON_SCENE:
        return FieldStatus.LEFT_AREA if gone else status
    return FieldStatus.ON_SCENE if near else status


def said_status(status: FieldStatus, said: FieldStatus) -> FieldStatus:
    """The status after the volunteer said `said` (the same one when it changes nothing)."""
    if said is FieldStatus.EN_ROUTE and status is FieldStatus.ON_SCENE:
        return status
    return said
