"""What a volunteer's own call-out list shows: `GET /api/v1/me/offers`.

One rule, `reveal`: the incident's exact meeting point is shown only to a volunteer who accepted
and whose group is not over; before that the call-out says the role, the incident type, how far
and how long, and the time left to answer — enough to decide, not enough to find the scene.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.events.mobilization import MobilizationStatus, OfferStatus
from shared.events.tracking import FieldStatus


@dataclass(frozen=True, slots=True)
class OwnOffer:
    """One of the volunteer's offers, as read from the database (exact point included)."""

    offer_id: UUID
    incident_id: UUID
    role: str
    incident_type: str
    status: OfferStatus
    mobilization_status: MobilizationStatus
    is_exercise: bool
    headline: str | None
    distance_m: int
    eta_s: int
    offered_at: datetime
    expires_at: datetime
    responded_at: datetime | None
    closed_reason: str | None
    meeting_point: tuple[float, float]
    """`[lon, lat]` of the incident's centre: where the group meets."""
    field_status: FieldStatus | None = None
    """While deployed (accepted, not released): on the way, on scene or left."""


@dataclass(frozen=True, slots=True)
class Revealed:
    offer: OwnOffer
    answerable: bool
    seconds_left: int
    meeting_point: tuple[float, float] | None


def reveal(offer: OwnOffer, *, now: datetime) -> Revealed:
    """What the volunteer may see of `offer` at `now`."""
    live = offer.mobilization_status is not MobilizationStatus.CLOSED
    answerable = (
        offer.status is OfferStatus.PENDING
        and offer.mobilization_status is MobilizationStatus.ACTIVE
        and offer.expires_at > now
    )
    seconds_left = max(0, int((offer.expires_at - now).total_seconds())) if answerable else 0
    shown = offer.meeting_point if offer.status is OfferStatus.ACCEPTED and live else None
    return Revealed(offer, answerable=answerable, seconds_left=seconds_left, meeting_point=shown)
