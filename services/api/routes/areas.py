"""`POST /api/v1/incidents/{incident_id}/area`: a dispatcher places an incident's area.

For incidents the intake flagged `area_to_confirm` (their alert named places it could not find
with certainty), and any other CAP incident whose area a dispatcher of its regions knows better:
the circle they drew becomes a CAP Update of the alert from Jedel's dispatchers
(`services.api.area_confirmation`), published on `alerts.cap.v1` and judged there by the intake
like any other Update (202: sent; the console sees the incident change on the live feed).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from services.api import callouts
from services.api.area_confirmation import DISPATCH_SENDER, NotCorrectable, confirmed_area_update
from services.api.auth.deps import OperatorDep, clock
from services.api.auth.principals import may_operate
from services.api.deps import LanguageDep, PublisherDep, SessionDep
from services.api.errors import Forbidden, GroupNotSteerable, IncidentNotFound
from services.api.messages import message
from services.api.schemas import Problem
from services.intake.tables import AlertRow, IncidentRow
from shared.events import topics
from shared.events.incidents import IncidentStatus
from shared.reference import KAZAKHSTAN_TZ

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

MIN_RADIUS_M = 100
MAX_RADIUS_M = 100_000


class PlacedArea(BaseModel):
    model_config = ConfigDict(extra="forbid")

    center: tuple[
        Annotated[float, Field(ge=46.4, le=87.4)], Annotated[float, Field(ge=40.5, le=55.5)]
    ] = Field(description="[lon, lat] of the circle's centre, in Kazakhstan")
    radius_m: int = Field(ge=MIN_RADIUS_M, le=MAX_RADIUS_M)


REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "Not an operator of the incident's regions"},
    404: {"model": Problem, "description": "No such incident"},
    409: {"model": Problem, "description": "Closed, or not raised by a CAP alert"},
    503: {"model": Problem, "description": "The broker cannot take it now; try again"},
}


@router.post(
    "/{incident_id}/area",
    status_code=202,
    response_model=Problem,
    responses=REFUSED,
    summary="Place the incident's area (a circle): sent as a CAP Update from Jedel's dispatchers",
)
async def place_area(
    request: Request,
    incident_id: UUID,
    session: SessionDep,
    principal: OperatorDep,
    publisher: PublisherDep,
    language: LanguageDep,
    body: Annotated[PlacedArea, Body()],
) -> Problem:
    # The region first: whether an incident exists is not for other regions' dispatchers to learn.
    if not may_operate(principal, await callouts.operating_regions(session, incident_id)):
        raise Forbidden("auth.other_region")
    incident = await session.get(IncidentRow, incident_id)
    if incident is None:
        raise IncidentNotFound(incident_id)
    if incident.status != IncidentStatus.OPEN:
        raise GroupNotSteerable("area.closed")
    latest = await session.scalar(
        select(AlertRow)
        .where(
            AlertRow.incident_id == incident_id,
            AlertRow.source == "cap",
            AlertRow.msg_type.in_(("Alert", "Update")),
        )
        .order_by(AlertRow.sent.desc())
        .limit(1)
    )
    if latest is None:
        raise GroupNotSteerable("area.not_cap")
    lon, lat = body.center
    try:
        update = confirmed_area_update(
            latest.raw,
            identifier=f"jedel-area-{uuid4()}",
            sent=clock(request).astimezone(KAZAKHSTAN_TZ),
            lon=lon,
            lat=lat,
            radius_m=body.radius_m,
            description=message("area.description", language),
        )
    except NotCorrectable:
        raise GroupNotSteerable("area.not_cap") from None
    await publisher.publish_message(
        topics.ALERTS_DISPATCH,
        update,
        key=DISPATCH_SENDER.encode(),
        headers={"jedel.placed_by": str(principal.account_id), "jedel.incident": str(incident_id)},
    )
    return Problem(detail=message("area.sent", language, km=round(body.radius_m / 1000, 1)))
