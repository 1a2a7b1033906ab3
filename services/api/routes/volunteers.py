"""Admins act on a volunteer's personal data: erase (pseudonymise) it on the person's request."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel

from services.api.auth.deps import AdminDep
from services.api.deps import SessionmakerDep
from services.api.erasure import erase_volunteer, forget_live_data
from services.api.errors import VolunteerNotFound
from services.api.schemas import Problem

router = APIRouter(prefix="/api/v1/volunteers", tags=["volunteers"])


class ErasedVolunteer(BaseModel):
    volunteer_id: UUID
    certificates_deleted: int
    offers_pseudonymised: int
    accounts_deleted: int
    track_points_deleted: int


@router.post(
    "/{volunteer_id}/erase",
    response_model=ErasedVolunteer,
    responses={
        401: {"model": Problem, "description": "Not signed in"},
        403: {"model": Problem, "description": "Not an admin"},
        404: {"model": Problem, "description": "No such volunteer"},
    },
    summary="Erase a volunteer's personal data on their request (the registry keeps the id)",
)
async def erase(
    request: Request, volunteer_id: UUID, admin: AdminDep, sessionmaker: SessionmakerDep
) -> ErasedVolunteer:
    async with sessionmaker() as session, session.begin():
        erased = await erase_volunteer(session, volunteer_id)
    if erased is None:
        raise VolunteerNotFound(volunteer_id)
    await forget_live_data(request.app.state.redis, volunteer_id)
    return ErasedVolunteer(
        volunteer_id=volunteer_id,
        certificates_deleted=erased.certificates,
        offers_pseudonymised=erased.offers,
        accounts_deleted=erased.accounts,
        track_points_deleted=erased.track_points,
    )
