"""`GET /api/v1/me` and `PUT /api/v1/me/availability`: a volunteer's own standing, set by them.

What they hold (each certificate with when it lapses, named in their language) and whether they may
be asked (available or off duty, quiet hours). Only their own: the route reads the signed-in
volunteer's id from the session, never from the request. Off duty, nobody asks them; in their
quiet hours only urgent call-outs do (as matching decides, `services.mobilizer.eligibility`).
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.deps import VolunteerDep, clock
from services.api.deps import LanguageDep, SessionmakerDep
from services.api.errors import VolunteerNotFound
from services.api.my_profile import QuietHoursError, Standing, quiet_hours, standing_of
from services.api.schemas import Problem
from services.api.tables import CertificationRow, VolunteerRow
from services.mobilizer.eligibility import local_day
from services.mobilizer.messages import certification_name
from shared.events.volunteers import Availability, CertificationType

router = APIRouter(prefix="/api/v1/me", tags=["volunteer"])

REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "Not a volunteer"},
}


class CertificateView(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: CertificationType
    name: str = Field(description="In the caller's language")
    issued_on: date
    expires_on: date
    standing: Standing
    days_left: int = Field(description="Until it lapses: 0 on its last day, negative once lapsed")


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True)

    availability: Availability
    quiet_hours_start: time | None = Field(description="Local time (Kazakhstan)")
    quiet_hours_end: time | None
    certificates: list[CertificateView] = Field(description="Soonest to lapse first")


class Availabilities(BaseModel):
    """What a volunteer may set (`inactive` is for an administrator, or an erasure)."""

    model_config = ConfigDict(extra="forbid")

    availability: Literal[Availability.AVAILABLE, Availability.OFF_DUTY]
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None

    @model_validator(mode="after")
    def _whole_quiet_hours(self) -> Self:
        try:
            quiet_hours(self.quiet_hours_start, self.quiet_hours_end)
        except QuietHoursError as error:
            raise ValueError(str(error)) from None
        return self


async def _profile(
    session: AsyncSession, volunteer_id: UUID, *, today: date, language: str
) -> Profile:
    volunteer = await session.scalar(select(VolunteerRow).where(VolunteerRow.id == volunteer_id))
    if volunteer is None:
        raise VolunteerNotFound(volunteer_id)
    held = await session.execute(
        select(CertificationRow.type, CertificationRow.issued_on, CertificationRow.expires_on)
        .where(CertificationRow.volunteer_id == volunteer_id)
        .order_by(CertificationRow.expires_on)
    )
    certificates = []
    for kind, issued_on, expires_on in held:
        standing = standing_of(issued_on, expires_on, today=today)
        certificates.append(
            CertificateView(
                type=CertificationType(kind),
                name=certification_name(CertificationType(kind), language),
                issued_on=issued_on,
                expires_on=expires_on,
                standing=standing.standing,
                days_left=standing.days_left,
            )
        )
    return Profile(
        availability=Availability(volunteer.availability),
        quiet_hours_start=volunteer.quiet_hours_start,
        quiet_hours_end=volunteer.quiet_hours_end,
        certificates=certificates,
    )


@router.get(
    "",
    response_model=Profile,
    responses=REFUSED,
    summary="This volunteer's certificates (and when each lapses), availability and quiet hours",
)
async def my_profile(
    request: Request, principal: VolunteerDep, sessionmaker: SessionmakerDep, language: LanguageDep
) -> Profile:
    assert principal.volunteer_id is not None
    async with sessionmaker() as session:
        return await _profile(
            session, principal.volunteer_id, today=local_day(clock(request)), language=language
        )


@router.put(
    "/availability",
    response_model=Profile,
    responses={**REFUSED, 422: {"model": Problem, "description": "Half a quiet-hours range"}},
    summary="Be available or off duty, and set quiet hours (only urgent call-outs come in them)",
)
async def set_availability(
    request: Request,
    principal: VolunteerDep,
    sessionmaker: SessionmakerDep,
    language: LanguageDep,
    body: Annotated[Availabilities, Body()],
) -> Profile:
    assert principal.volunteer_id is not None
    async with sessionmaker() as session:
        await session.execute(
            update(VolunteerRow)
            .where(
                VolunteerRow.id == principal.volunteer_id,
                # An administrator's `inactive` stands: a volunteer cannot undo it from the app.
                VolunteerRow.availability != Availability.INACTIVE.value,
            )
            .values(
                availability=body.availability.value,
                quiet_hours_start=body.quiet_hours_start,
                quiet_hours_end=body.quiet_hours_end,
            )
        )
        await session.commit()
        return await _profile(
            session, principal.volunteer_id, today=local_day(clock(request)), language=language
        )
