"""Admins and the sender registry: who may raise incidents, and stopping one at once.

The registry itself is configuration (`senders.yaml`, or `JEDEL_INTAKE__SENDERS_FILE`: the same
file the intake reads), changed by a deployment. What an administrator does here is the urgent
part: **suspend** a sender — a key that leaked, a feed gone mad — so the intake refuses everything
under its name within seconds (`sender_suspended`, in the dispatchers' queue of refused alerts),
and **resume** it. Suspensions live in `sender_suspensions`; the intake reads them every
`JEDEL_INTAKE__SUSPENSIONS_REFRESH_S` seconds.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from services.api.auth.deps import AdminDep, clock
from services.api.deps import LanguageDep, SessionDep
from services.api.errors import SenderNotFound
from services.api.messages import message
from services.api.schemas import Problem
from services.api.sender_registry import registry
from services.intake.senders import sender_key
from services.intake.tables import SenderSuspensionRow

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/senders", tags=["senders"])

REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "Not an admin"},
    404: {"model": Problem, "description": "No such sender in the registry (or not suspended)"},
}


class Suspension(BaseModel):
    reason: str
    suspended_at: datetime
    suspended_by: UUID


class SenderOut(BaseModel):
    id: str
    name: str = Field(description="In the caller's language")
    topics: list[str]
    regions: list[str] | Literal["all"]
    acts_for: list[str] | Literal["all"]
    signature: str
    example: bool
    suspended: Suspension | None


class SuspendSender(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sender_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=3, max_length=500, description="Kept with the suspension")


class ResumeSender(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sender_id: str = Field(min_length=1, max_length=200)


@router.get(
    "",
    response_model=list[SenderOut],
    responses=REFUSED,
    summary="The sender registry, with who is suspended",
)
async def list_senders(
    admin: AdminDep, session: SessionDep, language: LanguageDep
) -> list[SenderOut]:
    suspended = {row.sender_key: row for row in await session.scalars(select(SenderSuspensionRow))}
    out = []
    for sender in registry().senders:
        row = suspended.get(sender_key(sender.id))
        out.append(
            SenderOut(
                id=sender.id,
                name=sender.name[language],
                topics=sorted(sender.topics),
                regions=sorted(sender.regions) if sender.regions is not None else "all",
                acts_for="all" if sender.acts_for_all else sorted(sender.acts_for),
                signature=sender.signature.value,
                example=sender.example,
                suspended=Suspension(
                    reason=row.reason, suspended_at=row.suspended_at, suspended_by=row.suspended_by
                )
                if row is not None
                else None,
            )
        )
    return out


@router.post(
    "/suspend",
    response_model=Problem,
    responses=REFUSED,
    summary="Suspend a sender: the intake refuses what it sends, within seconds",
)
async def suspend_sender(
    request: Request,
    admin: AdminDep,
    session: SessionDep,
    language: LanguageDep,
    body: Annotated[SuspendSender, Body()],
) -> Problem:
    sender = registry().find(body.sender_id)
    if sender is None:
        raise SenderNotFound(body.sender_id)
    values = {
        "sender_key": sender_key(sender.id),
        "sender_id": sender.id,
        "reason": body.reason,
        "suspended_by": admin.account_id,
        "suspended_at": clock(request),
    }
    await session.execute(
        insert(SenderSuspensionRow)
        .values(**values)
        .on_conflict_do_update(index_elements=["sender_key"], set_=values)
    )
    await session.commit()
    log.warning("sender %s suspended by account %s", sender.id, admin.account_id)
    return Problem(detail=message("sender.suspended", language, sender=sender.describe(language)))


@router.post(
    "/resume",
    response_model=Problem,
    responses=REFUSED,
    summary="Resume a suspended sender",
)
async def resume_sender(
    admin: AdminDep,
    session: SessionDep,
    language: LanguageDep,
    body: Annotated[ResumeSender, Body()],
) -> Problem:
    sender = registry().find(body.sender_id)
    if sender is None:
        raise SenderNotFound(body.sender_id)
    done = await session.execute(
        delete(SenderSuspensionRow).where(SenderSuspensionRow.sender_key == sender_key(sender.id))
    )
    if not getattr(done, "rowcount", 0):
        raise SenderNotFound(body.sender_id)
    await session.commit()
    log.warning("sender %s resumed by account %s", sender.id, admin.account_id)
    return Problem(detail=message("sender.resumed", language, sender=sender.describe(language)))
