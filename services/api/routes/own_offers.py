"""`GET /api/v1/me/offers`: a signed-in volunteer's own call-outs of the last day, newest first;
`POST /api/v1/me/offers/{offer_id}/field-status`: once deployed, they say where they are.

What each shows is decided by `services.api.my_offers.reveal`: the exact meeting point only once
the volunteer has accepted. Nobody else's offers, and nothing about other people, are ever listed.
What they say (on the way, on scene, leaving) goes to the tracker as `FieldStatusReported` on
`locations.v1`, stamped with when the API heard it; the tracker moves their deployment as a fix
that showed it would, and tells `tracking.v1` (arrival closes their ETA for the dispatcher).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from services.api import callouts
from services.api.auth.deps import VolunteerDep, clock
from services.api.deps import PublisherDep, SessionmakerDep
from services.api.errors import NotDeployed, NotYourOffer, OfferNotFound
from services.api.my_offers import reveal
from services.api.schemas import Problem
from services.mobilizer.tables import OfferRow
from services.tracker.tables import DeploymentRow
from shared.events import topics
from shared.events.locations import FieldStatusReported
from shared.events.mobilization import MobilizationStatus, OfferStatus
from shared.events.tracking import FieldStatus

router = APIRouter(prefix="/api/v1/me", tags=["volunteer"])

LOOK_BACK = timedelta(hours=24)
REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "Not a volunteer"},
}


class OwnOfferView(BaseModel):
    model_config = ConfigDict(frozen=True)

    offer_id: UUID
    incident_id: UUID
    role: str
    incident_type: str
    headline: str | None
    is_exercise: bool
    status: OfferStatus
    mobilization_status: MobilizationStatus
    distance_m: int
    eta_s: int
    offered_at: datetime
    expires_at: datetime
    responded_at: datetime | None
    closed_reason: str | None
    answerable: bool
    seconds_left: int
    meeting_point: tuple[float, float] | None
    """`[lon, lat]`, only once accepted and while the group is not over."""
    field_status: FieldStatus | None
    """While deployed: on the way, on scene or left (by their fixes, or their own word)."""


class FieldWord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: FieldStatus


class FieldWordHeard(BaseModel):
    status: FieldStatus
    received_at: datetime


@router.get(
    "/offers",
    response_model=list[OwnOfferView],
    responses=REFUSED,
    summary="This volunteer's call-outs of the last 24 hours; the meeting point once accepted",
)
async def my_offers(
    request: Request, principal: VolunteerDep, sessionmaker: SessionmakerDep
) -> list[OwnOfferView]:
    assert principal.volunteer_id is not None
    now = clock(request)
    async with sessionmaker() as session:
        offers = await callouts.own_offers(session, principal.volunteer_id, since=now - LOOK_BACK)
    views = []
    for offer in offers:
        shown = reveal(offer, now=now)
        # The offer's facts, with what `reveal` decided in place of its exact meeting point.
        decided = {"answerable": shown.answerable, "seconds_left": shown.seconds_left}
        views.append(
            OwnOfferView(**asdict(offer) | decided | {"meeting_point": shown.meeting_point})
        )
    return views


@router.post(
    "/offers/{offer_id}/field-status",
    status_code=202,
    response_model=FieldWordHeard,
    responses={
        **REFUSED,
        403: {"model": Problem, "description": "Not a volunteer, or not their offer"},
        404: {"model": Problem, "description": "No such offer"},
        409: {"model": Problem, "description": "Not deployed on it (not accepted, or released)"},
        503: {"model": Problem, "description": "The broker cannot take it now; say it again"},
    },
    summary="Say where I am on a call-out I accepted: on the way, on scene, or leaving",
)
async def say_field_status(
    request: Request,
    offer_id: UUID,
    principal: VolunteerDep,
    sessionmaker: SessionmakerDep,
    publisher: PublisherDep,
    body: Annotated[FieldWord, Body()],
) -> FieldWordHeard:
    assert principal.volunteer_id is not None
    async with sessionmaker() as session:
        offer = await session.get(OfferRow, offer_id)
        if offer is None:
            raise OfferNotFound(offer_id)
        if offer.volunteer_id != principal.volunteer_id:
            raise NotYourOffer(offer_id)
        deployed = await session.scalar(
            select(DeploymentRow.offer_id).where(
                DeploymentRow.offer_id == offer_id,
                DeploymentRow.volunteer_id == principal.volunteer_id,
                DeploymentRow.released_at.is_(None),
            )
        )
    if deployed is None:
        raise NotDeployed()
    now = clock(request)
    await publisher.publish(
        topics.LOCATIONS,
        key=principal.volunteer_id,
        event=FieldStatusReported(
            volunteer_id=principal.volunteer_id,
            incident_id=offer.incident_id,
            offer_id=offer_id,
            status=body.status,
            occurred_at=now,
        ),
    )
    return FieldWordHeard(status=body.status, received_at=now)
