"""Where volunteers are: the phone app's position reports (`locations.v1`, keyed by volunteer id),
and what deployed volunteers say of themselves (on the way, on scene, leaving) — on the same topic
and key, so the tracker reads a volunteer's fixes and words in the order they were received."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.events.base import Event
from shared.events.tracking import FieldStatus


class VolunteerLocated(Event):
    """A position fix from a volunteer's phone; the tracker keeps the newest one per volunteer."""

    kind: Literal["VolunteerLocated"] = "VolunteerLocated"
    volunteer_id: UUID
    longitude: float = Field(ge=-180.0, le=180.0, description="WGS 84")
    # Redis GEO stores latitudes up to ±85.05112878°, like web maps.
    latitude: float = Field(ge=-85.05, le=85.05, description="WGS 84")
    accuracy_m: float | None = Field(default=None, ge=0, description="Radius of 68 % confidence")
    recorded_at: AwareDatetime = Field(description="When the phone took the fix")


class FieldStatusReported(Event):
    """A deployed volunteer says where they are (the app's buttons); the API stamps
    `occurred_at` with when it received it. The tracker takes it like a fix that showed it
    (`services.tracker.field.said_status`): no fix may be needed to arrive, e.g. without signal
    for the GPS or without consent to share location."""

    kind: Literal["FieldStatusReported"] = "FieldStatusReported"
    volunteer_id: UUID
    incident_id: UUID
    offer_id: UUID
    status: FieldStatus = Field(description="en_route: on my way; on_scene; left_area: leaving")
