"""Admins manage staff accounts: list them, add one (a generated password is returned once),
disable one (its sessions end at once)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.api.auth import staff
from services.api.auth.deps import AdminDep, clock
from services.api.auth.principals import AccountRole
from services.api.deps import SessionmakerDep
from services.api.schemas import Problem

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])

REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Refused: a volunteer, no region, an unknown region"},
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "Not an admin"},
}


class StaffAccountOut(BaseModel):
    id: UUID
    username: str
    role: AccountRole
    regions: list[str]
    disabled: bool


class NewStaffAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    role: AccountRole
    regions: list[str] = Field(default_factory=list, max_length=20)
    display_name: str = Field(default="", max_length=120)


class AddedStaffAccount(StaffAccountOut):
    password: str = Field(description="Generated; shown this once, never stored in the clear")


def _out(account: staff.StaffAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "role": account.role,
        "regions": account.regions,
        "disabled": account.disabled,
    }


@router.get("", response_model=list[StaffAccountOut], responses=REFUSED, summary="Staff accounts")
async def list_accounts(admin: AdminDep, sessionmaker: SessionmakerDep) -> list[StaffAccountOut]:
    async with sessionmaker() as session:
        return [StaffAccountOut(**_out(account)) for account in await staff.list_staff(session)]


@router.post(
    "",
    status_code=201,
    response_model=AddedStaffAccount,
    responses=REFUSED,
    summary="Add a staff account",
)
async def add_account(
    request: Request,
    admin: AdminDep,
    body: Annotated[NewStaffAccount, Body()],
    sessionmaker: SessionmakerDep,
) -> JSONResponse:
    password = staff.new_password()
    try:
        async with sessionmaker() as session, session.begin():
            added = await staff.add_staff(
                session,
                username=body.username,
                role=body.role,
                regions=body.regions,
                password=password,
                display_name=body.display_name,
                now=clock(request),
            )
    except staff.AccountError as error:
        return JSONResponse({"detail": str(error)}, status_code=400)
    out = AddedStaffAccount(**_out(added), password=password)
    return JSONResponse(
        out.model_dump(mode="json"), status_code=201, headers={"Cache-Control": "no-store"}
    )


@router.post(
    "/{username}/disable",
    response_model=StaffAccountOut,
    responses={**REFUSED, 404: {"model": Problem, "description": "No such account"}},
    summary="Disable an account; its sessions end at once",
)
async def disable_account(
    request: Request, username: str, admin: AdminDep, sessionmaker: SessionmakerDep
) -> JSONResponse:
    try:
        async with sessionmaker() as session, session.begin():
            await staff.disable(session, username, now=clock(request))
            [account] = [a for a in await staff.list_staff(session) if a.username == username]
    except staff.AccountError as error:
        return JSONResponse({"detail": str(error)}, status_code=404)
    return JSONResponse(StaffAccountOut(**_out(account)).model_dump(mode="json"))
