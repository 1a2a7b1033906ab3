"""The dispatchers' queue of refused alerts: what the intake could not take, why, and what to do.

Each alert the intake dead-letters is kept by the registry (`services.registry.refusals`). Here a
dispatcher lists those of their regions (and those nobody can place), reads one as it was sent,
and either resubmits a corrected message — it goes to the intake's topic again and is judged
there like any other, so a correction can still be refused, and then comes back to the queue — or
dismisses it. The corrected message and who sent it are kept with the refusal.

Who sees what is `principals.sees_refusal`: a refused missing-person report carries a person's
name and needs, so only the dispatchers of its regions and admins read it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, func, literal, or_, select, update

from services.api.auth.deps import DispatcherDep
from services.api.auth.principals import AccountRole, Principal, sees_refusal
from services.api.deps import LanguageDep, PublisherDep, SessionDep
from services.api.errors import BadCorrection, Forbidden, RefusalHandled, RefusalNotFound
from services.api.messages import message
from services.api.schemas import Problem
from services.api.sender_registry import registry
from services.intake.cap import MAX_CAP_BYTES
from services.intake.gazetteer import Gazetteer
from services.intake.regions import RegionIndex
from services.intake.senders import SenderRegistry
from services.intake.subscribers import prepare_cap, prepare_report
from services.registry.tables import RefusedAlertRow
from shared.events import topics
from shared.events.alerts import RefusalStatus
from shared.events.base import utc_now
from shared.i18n import CATALOGUE, Language
from shared.reference import load_regions
from shared.rejections import Rejected

router = APIRouter(prefix="/api/v1/refused-alerts", tags=["refused alerts"])

REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "Not a dispatcher of the alert's regions"},
    404: {"model": Problem, "description": "No such refused alert"},
}
HANDLED: dict[int | str, dict[str, Any]] = {
    **REFUSED,
    409: {"model": Problem, "description": "A dispatcher has already resubmitted or dismissed it"},
}
# Where a corrected message goes: the topic its original came in on, and nothing else.
RESUBMITTABLE = frozenset({topics.ALERTS_CAP, topics.ALERTS_MISSING_PERSON, topics.ALERTS_DISPATCH})
SOURCES: dict[str, Literal["cap", "missing_person"]] = {
    topics.ALERTS_CAP: "cap",
    topics.ALERTS_DISPATCH: "cap",
    topics.ALERTS_MISSING_PERSON: "missing_person",
}
# Headers a corrected message carries, for the people reading the topic later.
RESUBMITS_HEADER = "jedel.resubmits"
ACCOUNT_HEADER = "jedel.resubmitted_by"


class RefusedAlert(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    code: str = Field(description="Why it was refused, machine-readable (`unknown_sender`, …)")
    title: str = Field(description="The code in the caller's language")
    reason: str = Field(description="What was wrong with this very message, as the intake said")
    source: Literal["cap", "missing_person"] | None = Field(
        description="A CAP alert or a police missing-person report"
    )
    sender: str | None = Field(description="As the message names it, when it could be read")
    region_codes: list[str] = Field(description="Where it was about; empty when unknown")
    refused_at: datetime
    status: RefusalStatus
    handled_at: datetime | None


class RefusedAlertList(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[RefusedAlert] = Field(description="Newest first")
    open: int = Field(description="How many of the caller's are still open")


class RefusedAlertMessage(RefusedAlert):
    message: str = Field(description="The message as it was sent (UTF-8; undecodable bytes as �)")
    correction: str | None = Field(description="What a dispatcher resubmitted in its place")


class Correction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(
        min_length=1,
        max_length=MAX_CAP_BYTES,
        description="The corrected message, whole (CAP XML, or the report's JSON)",
    )


@cache
def _places() -> tuple[RegionIndex, Gazetteer, SenderRegistry]:
    return RegionIndex(load_regions()), Gazetteer.default(), registry()


def regions_of(topic: str, message: bytes) -> tuple[str, ...]:
    """The regions a (corrected) alert is about, as the intake would place it; () when it cannot
    be read (the intake will refuse it again, with why)."""
    regions, gazetteer, senders = _places()
    try:
        if topic == topics.ALERTS_MISSING_PERSON:
            _, draft = prepare_report(message, regions=regions)
            return draft.region_codes
        _, cap_draft = prepare_cap(
            message,
            regions=regions,
            gazetteer=gazetteer,
            senders=senders,
            max_bytes=MAX_CAP_BYTES,
        )
    except Rejected:
        return ()
    return cap_draft.region_codes if cap_draft is not None else ()


def _title(code: str, language: Language) -> str:
    words = CATALOGUE.get(f"rejection.{code}")
    return (words.get(language) or words["kk"]) if words else code


def _view(row: RefusedAlertRow, language: Language) -> dict[str, Any]:
    return {
        "id": row.id,
        "code": row.code,
        "title": _title(row.code, language),
        "reason": row.reason,
        "source": SOURCES.get(row.source_topic),
        "sender": row.sender,
        "region_codes": row.region_codes,
        "refused_at": row.refused_at,
        "status": RefusalStatus(row.status),
        "handled_at": row.handled_at,
    }


def _visible(principal: Principal) -> ColumnElement[bool]:
    """`sees_refusal` as a filter (kept in step with it by the authorisation tests)."""
    if principal.role is AccountRole.ADMIN:
        return literal(True)
    if principal.role is not AccountRole.DISPATCHER:
        return literal(False)
    return or_(
        func.cardinality(RefusedAlertRow.region_codes) == 0,
        RefusedAlertRow.region_codes.overlap(sorted(principal.regions)),
    )


async def _refusal(session: SessionDep, principal: Principal, refusal_id: UUID) -> RefusedAlertRow:
    row = await session.get(RefusedAlertRow, refusal_id)
    if row is None:
        raise RefusalNotFound(refusal_id)
    if not sees_refusal(principal, row.region_codes):
        raise Forbidden("auth.other_region")
    return row


@router.get(
    "",
    response_model=RefusedAlertList,
    responses=REFUSED,
    summary="Alerts the intake refused, with why: the caller's regions' and those nobody can place",
)
async def list_refused_alerts(
    session: SessionDep,
    principal: DispatcherDep,
    language: LanguageDep,
    status: Annotated[RefusalStatus, Query()] = RefusalStatus.OPEN,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RefusedAlertList:
    visible = _visible(principal)
    rows = await session.scalars(
        select(RefusedAlertRow)
        .where(RefusedAlertRow.status == status.value, visible)
        .order_by(RefusedAlertRow.refused_at.desc(), RefusedAlertRow.id)
        .limit(limit)
    )
    still_open = await session.scalar(
        select(func.count())
        .select_from(RefusedAlertRow)
        .where(RefusedAlertRow.status == RefusalStatus.OPEN.value, visible)
    )
    return RefusedAlertList.model_validate(
        {"items": [_view(row, language) for row in rows], "open": still_open or 0}
    )


@router.get(
    "/{refusal_id}",
    response_model=RefusedAlertMessage,
    responses=REFUSED,
    summary="One refused alert with the message as it was sent, to correct it",
)
async def get_refused_alert(
    refusal_id: UUID, session: SessionDep, principal: DispatcherDep, language: LanguageDep
) -> RefusedAlertMessage:
    row = await _refusal(session, principal, refusal_id)
    return RefusedAlertMessage.model_validate(
        {
            **_view(row, language),
            "message": row.message.decode("utf-8", errors="replace"),
            "correction": row.correction.decode("utf-8", errors="replace")
            if row.correction is not None
            else None,
        }
    )


async def _settle(
    session: SessionDep,
    principal: Principal,
    row: RefusedAlertRow,
    status: RefusalStatus,
    correction: bytes | None = None,
) -> None:
    """Mark it handled, unless someone else got there first (409); not committed yet."""
    done = await session.execute(
        update(RefusedAlertRow)
        .where(
            RefusedAlertRow.id == row.id,
            RefusedAlertRow.status == RefusalStatus.OPEN.value,
        )
        .values(
            status=status.value,
            handled_by=principal.account_id,
            handled_at=utc_now(),
            correction=correction,
        )
    )
    if getattr(done, "rowcount", 0) != 1:
        raise RefusalHandled()


@router.post(
    "/{refusal_id}/resubmit",
    status_code=202,
    response_model=Problem,
    responses=HANDLED,
    summary="Send a corrected message to the intake, where it is judged as if sent anew",
)
async def resubmit_refused_alert(
    refusal_id: UUID,
    session: SessionDep,
    principal: DispatcherDep,
    publisher: PublisherDep,
    language: LanguageDep,
    body: Annotated[Correction, Body()],
) -> Problem:
    row = await _refusal(session, principal, refusal_id)
    if row.source_topic not in RESUBMITTABLE:
        raise RefusalHandled("refusal.not_resubmittable")
    corrected = body.message.encode()
    if len(corrected) > MAX_CAP_BYTES:
        raise BadCorrection("refusal.too_large")
    # A correction may not move an alert out of the dispatcher's regions: where it is about is
    # read as the intake would read it (one that still cannot be read comes back refused).
    about = await asyncio.to_thread(regions_of, row.source_topic, corrected)
    if about and not sees_refusal(principal, about):
        raise Forbidden("refusal.other_region")
    await _settle(session, principal, row, RefusalStatus.RESUBMITTED, corrected)
    # Published before the commit: if the broker cannot take it, the refusal stays open (503).
    await publisher.publish_message(
        row.source_topic,
        corrected,
        key=(row.sender or "").encode() or None,
        headers={RESUBMITS_HEADER: str(row.id), ACCOUNT_HEADER: str(principal.account_id)},
    )
    await session.commit()
    return Problem(detail=message("refusal.resubmitted", language))


@router.post(
    "/{refusal_id}/dismiss",
    status_code=200,
    response_model=Problem,
    responses=HANDLED,
    summary="Nothing to do about it (a test, a duplicate): out of the open queue",
)
async def dismiss_refused_alert(
    refusal_id: UUID, session: SessionDep, principal: DispatcherDep, language: LanguageDep
) -> Problem:
    row = await _refusal(session, principal, refusal_id)
    await _settle(session, principal, row, RefusalStatus.DISMISSED)
    await session.commit()
    return Problem(detail=message("refusal.dismissed", language))
