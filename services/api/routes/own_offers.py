"""`GET /api/v1/me/offers`: a signed-in volunteer's own call-outs of the last day, newest first.

What each shows is decided by `services.api.my_offers.reveal`: the exact meeting point only once
the volunteer has accepted. Nobody else's offers, and nothing about other people, are ever listed.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from services.api import callouts
from services.api.auth.deps import VolunteerDep, clock
from services.api.deps import SessionmakerDep
from services.api.my_offers import reveal
from services.api.schemas import Problem
from shared.events.mobilization import MobilizationStatus, OfferStatus

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
