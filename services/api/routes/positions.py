"""A volunteer's phone reports where it is, and the volunteer says whether it may.

`POST /api/v1/me/locations` takes a batch of fixes (a phone that was offline sends what it kept),
stamps them as received now and publishes each as `VolunteerLocated` on `locations.v1` — the API
is the only writer of that topic. Nothing is taken without the volunteer's consent to location
sharing (`PUT /api/v1/me/consents/location_sharing`), kept as an append-only record. A fix from
the future (beyond a few minutes of clock skew) or older than `MAX_FIX_AGE` is refused, not
published: a phone cannot place someone where they were not.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.api.auth import accounts
from services.api.auth.deps import VolunteerDep, clock
from services.api.deps import PublisherDep, SessionmakerDep
from services.api.errors import Forbidden
from services.api.schemas import Problem
from shared.events import topics
from shared.events.locations import VolunteerLocated

router = APIRouter(prefix="/api/v1/me", tags=["volunteer"])

CLOCK_SKEW = timedelta(minutes=5)
MAX_FIX_AGE = timedelta(hours=12)
MAX_FIXES = 200


class ConsentKind(StrEnum):
    LOCATION_SHARING = "location_sharing"


class Fix(BaseModel):
    model_config = ConfigDict(extra="forbid")

    longitude: float = Field(ge=-180.0, le=180.0)
    latitude: float = Field(ge=-85.05, le=85.05)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    recorded_at: AwareDatetime


class Fixes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fixes: list[Fix] = Field(min_length=1, max_length=MAX_FIXES)


class FixesTaken(BaseModel):
    accepted: int
    refused: int = Field(description="From the future or too old; not published")
    received_at: datetime


class Consent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    given: bool


class ConsentState(BaseModel):
    kind: ConsentKind
    given: bool


REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "Not a volunteer, or no consent to share location"},
    503: {"model": Problem, "description": "The broker cannot take them now; send them again"},
}


def usable(fix: Fix, *, now: datetime) -> bool:
    """Whether a fix may be published: not from the future, not older than `MAX_FIX_AGE`."""
    return now - MAX_FIX_AGE <= fix.recorded_at <= now + CLOCK_SKEW


@router.post(
    "/locations",
    response_model=FixesTaken,
    responses=REFUSED,
    summary="Report where this phone is (a batch of fixes, oldest first)",
)
async def report_locations(
    request: Request,
    principal: VolunteerDep,
    body: Annotated[Fixes, Body()],
    sessionmaker: SessionmakerDep,
    publisher: PublisherDep,
) -> FixesTaken:
    assert principal.volunteer_id is not None  # VolunteerDep
    volunteer_id = principal.volunteer_id
    async with sessionmaker() as session:
        consented = await accounts.consent_given(
            session, volunteer_id, ConsentKind.LOCATION_SHARING
        )
    if not consented:
        raise Forbidden("location.no_consent")
    now = clock(request)
    taken = [fix for fix in body.fixes if usable(fix, now=now)]
    await asyncio.gather(
        *(
            publisher.publish(
                topics.LOCATIONS,
                key=volunteer_id,
                event=VolunteerLocated(
                    volunteer_id=volunteer_id,
                    longitude=fix.longitude,
                    latitude=fix.latitude,
                    accuracy_m=fix.accuracy_m,
                    recorded_at=fix.recorded_at,
                    occurred_at=now,  # when Jedel received it, not what the phone says
                ),
            )
            for fix in taken
        )
    )
    return FixesTaken(accepted=len(taken), refused=len(body.fixes) - len(taken), received_at=now)


@router.get(
    "/consents",
    response_model=list[ConsentState],
    responses={401: REFUSED[401], 403: REFUSED[403]},
    summary="What this volunteer has consented to",
)
async def my_consents(principal: VolunteerDep, sessionmaker: SessionmakerDep) -> list[ConsentState]:
    assert principal.volunteer_id is not None
    async with sessionmaker() as session:
        return [
            ConsentState(
                kind=kind, given=await accounts.consent_given(session, principal.volunteer_id, kind)
            )
            for kind in ConsentKind
        ]


@router.put(
    "/consents/{kind}",
    response_model=ConsentState,
    responses={401: REFUSED[401], 403: REFUSED[403]},
    summary="Give or withdraw a consent (kept as a record with its time)",
)
async def set_consent(
    request: Request,
    kind: ConsentKind,
    principal: VolunteerDep,
    body: Annotated[Consent, Body()],
    sessionmaker: SessionmakerDep,
) -> ConsentState:
    assert principal.volunteer_id is not None
    async with sessionmaker() as session:
        await accounts.record_consent(
            session, principal.volunteer_id, kind=kind.value, given=body.given, now=clock(request)
        )
        await session.commit()
    return ConsentState(kind=kind, given=body.given)
