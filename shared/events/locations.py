"""Where volunteers are: the phone app's position reports (`locations.v1`, keyed by volunteer id)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.events.base import Event


class VolunteerLocated(Event):
    """A position fix from a volunteer's phone; the tracker keeps the newest one per volunteer."""

    kind: Literal["VolunteerLocated"] = "VolunteerLocated"
    volunteer_id: UUID
    longitude: float = Field(ge=-180.0, le=180.0, description="WGS 84")
    # Redis GEO stores latitudes up to ±85.05112878°, like web maps.
    latitude: float = Field(ge=-85.05, le=85.05, description="WGS 84")
    accuracy_m: float | None = Field(default=None, ge=0, description="Radius of 68 % confidence")
    recorded_at: AwareDatetime = Field(description="When the phone took the fix")
