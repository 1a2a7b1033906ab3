"""Contracts of `tracking.v1`: volunteers reaching and leaving the scene (keyed by incident id).

The tracker follows every volunteer who accepted a place (a *deployment*, from `OfferAccepted`
until they are released) by the fixes their phone sends: `VolunteerArrived` when they come within
reach of the meeting point, `VolunteerLeftArea` when they go well away from it and from the
incident's area. The mobilizer closes the member's ETA on arrival; the registry counts time on
scene.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.events.base import Event
from shared.events.volunteers import Role


class FieldStatus(StrEnum):
    """Where a deployed volunteer is, as their fixes tell or they say themselves."""

    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    LEFT_AREA = "left_area"


class TrackingEvent(Event):
    incident_id: UUID
    volunteer_id: UUID
    offer_id: UUID
    role: Role
    reported: bool = Field(
        default=False, description="The volunteer said so in the app; no fix showed it"
    )


class VolunteerArrived(TrackingEvent):
    kind: Literal["VolunteerArrived"] = "VolunteerArrived"
    arrived_at: datetime = Field(
        description="When the phone took the fix that showed it (or Jedel heard them say so)"
    )
    distance_m: int | None = Field(description="From the meeting point, at that fix; None if said")


class VolunteerLeftArea(TrackingEvent):
    kind: Literal["VolunteerLeftArea"] = "VolunteerLeftArea"
    left_at: datetime = Field(
        description="When the phone took the fix that showed it (or Jedel heard them say so)"
    )
    distance_m: int | None = Field(description="From the meeting point, at that fix; None if said")
