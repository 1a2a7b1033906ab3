"""`POST /api/v1/sms/inbound`: the SMS gateway hands over a reply a volunteer texted back.

For push-button phones, which cannot open the answer link: the volunteer answers the call-out SMS
itself (`1`/`2`, `ИӘ`/`ДА`/`YES` with minutes to arrive, `ЖОҚ`/`НЕТ`/`NO`; `sms_replies.read_reply`).
The reply is matched by the sender's number to the volunteer, and to their offer still waiting
for an answer — when several wait, they are asked which one (a numbered list; `2 ИӘ` answers the
second), and nothing is decided on a guess; it is then decided exactly as a tap in the app would be (`offers.decide`,
channel `sms`), stamped with when Jedel received it. The webhook answers with the text the gateway
sends back, in the volunteer's language: what was decided, or how to answer.

Gateway contract (any provider is wrapped to look like this):

    POST /api/v1/sms/inbound
    Authorization: Bearer <JEDEL_API__SMS_INBOUND_TOKEN>
    {"from": "+77011234567", "text": "ДА 20", "id": "<provider message id>"}

    200 {"reply": "…", "outcome": "accepted"}   send `reply` to `from` (an empty reply: nothing)
    401                                          wrong token: nothing was read
    503                                          not configured, or the broker is away: try again

A repeat of the same message is harmless: a second "yes" to an offer already accepted changes
nothing and gets the same reply. Phone numbers and texts are kept out of the logs.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Header, Request
from geoalchemy2 import Geometry
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api import callouts, messages
from services.api.answers import Decided, Refused
from services.api.auth.deps import clock
from services.api.auth.schemas import normalise_phone
from services.api.deps import PublisherDep, SessionmakerDep, SettingsDep
from services.api.errors import InboundSmsUnavailable, NotSignedIn
from services.api.routes.offers import decide
from services.api.schemas import OfferAnswer, Problem
from services.api.sms_replies import MAX_CHOICE, MAX_REPLY, read_reply
from services.api.tables import VolunteerRow
from services.mobilizer.tables import MobilizationRow, OfferRow
from shared.events.mobilization import Answer, MobilizationStatus, OfferStatus
from shared.i18n import ROLE_NAMES, Language, normalize_language, translate

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/sms", tags=["sms gateway"])


class InboundSms(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    sender: str = Field(alias="from", max_length=32, description="The volunteer's number")
    text: str = Field(max_length=2_000, description="What they texted (read up to one SMS)")
    id: str | None = Field(default=None, max_length=200, description="The provider's message id")


class SmsOutcome(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    QUEUED = "queued"  # sent on, not decided yet
    REFUSED = "refused"  # the place went to someone else, or the call-out closed
    NO_OFFER = "no_offer"  # nothing is waiting for their answer
    CHOOSE = "choose"  # several are waiting: they are asked which one, nothing is decided
    NOT_UNDERSTOOD = "not_understood"
    UNKNOWN_NUMBER = "unknown_number"


class SmsReplyOut(BaseModel):
    reply: str = Field(description="Text the gateway sends back to the volunteer")
    outcome: SmsOutcome


def authorised(settings_token: str | None, authorization: str | None) -> None:
    """The gateway's token, or 401; no token configured (unset or empty): 503, nobody gets in."""
    if not settings_token:
        raise InboundSmsUnavailable()
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not given or not hmac.compare_digest(given.encode(), settings_token.encode()):
        raise NotSignedIn()


@router.post(
    "/inbound",
    response_model=SmsReplyOut,
    responses={
        401: {"model": Problem, "description": "Not the gateway (wrong or missing token)"},
        503: {"model": Problem, "description": "Not configured, or the broker is away"},
    },
    summary="A volunteer's SMS reply to a call-out (for the SMS gateway, not for people)",
)
async def inbound_sms(
    request: Request,
    body: Annotated[InboundSms, Body()],
    sessionmaker: SessionmakerDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> SmsReplyOut:
    token = settings.api.sms_inbound_token
    authorised(token.get_secret_value() if token else None, authorization)
    phone = normalise_phone(body.sender)
    async with sessionmaker() as session:
        volunteer = (
            await session.execute(
                select(VolunteerRow.id, VolunteerRow.languages).where(VolunteerRow.phone == phone)
            )
        ).one_or_none()
        if volunteer is None:
            log.info("inbound SMS from a number no volunteer has")
            return _out(SmsOutcome.UNKNOWN_NUMBER, "kk", "sms.unknown_number")
        # Oldest first, so the numbers of a "which one?" list stay put while they answer.
        pending_rows = (
            await session.execute(
                select(
                    OfferRow.id,
                    OfferRow.language,
                    OfferRow.role,
                    MobilizationRow.incident_type,
                )
                .join(MobilizationRow, MobilizationRow.incident_id == OfferRow.incident_id)
                .where(
                    OfferRow.volunteer_id == volunteer.id,
                    OfferRow.status == OfferStatus.PENDING.value,
                    MobilizationRow.status == MobilizationStatus.ACTIVE.value,
                    OfferRow.expires_at > clock(request),
                )
                .order_by(OfferRow.offered_at, OfferRow.id)
                .limit(MAX_CHOICE)
            )
        ).all()
        pending = [Waiting(*row) for row in pending_rows]
        said = read_reply(body.text[:MAX_REPLY])
        waiting = which(pending, said.choice if said else None)
        known = await callouts.offer_state(session, waiting.id) if waiting else None
    about = waiting or (pending[-1] if pending else None)
    language = normalize_language(
        about.language if about is not None else (volunteer.languages or ["kk"])[0]
    )
    if said is None:
        return _out(SmsOutcome.NOT_UNDERSTOOD, language, "sms.how_to_answer")
    if pending and waiting is None:  # several waiting, and no number of one of them
        return SmsReplyOut(reply=which_one(pending, language), outcome=SmsOutcome.CHOOSE)
    if waiting is None or known is None:
        return _out(SmsOutcome.NO_OFFER, language, "sms.no_offer")
    offer, outcome = await decide(
        waiting.id,
        said.answer,
        OfferAnswer(),
        volunteer_id=volunteer.id,
        sessionmaker=sessionmaker,
        publisher=publisher,
        settings=settings,
        channel="sms",
        known=known,
        eta_s=said.eta_min * 60 if said.eta_min is not None else None,
    )
    log.info("incident %s: SMS %s of offer %s", offer.incident_id, said.answer, offer.offer_id)
    if isinstance(outcome, Refused):
        return SmsReplyOut(reply=outcome.describe(language), outcome=SmsOutcome.REFUSED)
    if outcome is None:
        return _out(SmsOutcome.QUEUED, language, "offer.pending")
    if isinstance(outcome, Decided) and outcome.status is OfferStatus.ACCEPTED:
        # Accepted: now they may know where (a push-button phone has no map: the coordinates).
        async with sessionmaker() as session:
            lon, lat = await _meeting_point(session, offer.incident_id)
        accepted = messages.message("offer.accepted", language)
        where = messages.message("sms.meeting_point", language, lat=f"{lat:.5f}", lon=f"{lon:.5f}")
        return SmsReplyOut(reply=f"{accepted} {where}", outcome=SmsOutcome.ACCEPTED)
    assert said.answer is Answer.DECLINE
    return _out(SmsOutcome.DECLINED, language, "offer.declined")


@dataclass(frozen=True)
class Waiting:
    """A call-out waiting for the volunteer's answer."""

    id: UUID
    language: str | None
    role: str
    incident_type: str


def which(pending: Sequence[Waiting], choice: int | None) -> Waiting | None:
    """The call-out a reply is about: the one they numbered, else the only one waiting; None when
    that is not clear (several waiting and no number, or a number not on the list) or none waits."""
    if choice is not None:
        return pending[choice - 1] if 1 <= choice <= len(pending) else None
    return pending[0] if len(pending) == 1 else None


def which_one(pending: Sequence[Waiting], language: Language) -> str:
    """The numbered list of call-outs waiting for an answer, and how to answer one of them."""
    listed = "; ".join(
        messages.message(
            "sms.which_one.item",
            language,
            n=number,
            incident=translate(f"incident_type.{offer.incident_type}", language),
            role=ROLE_NAMES[offer.role][language],
        )
        for number, offer in enumerate(pending, start=1)
    )
    return messages.message("sms.which_one", language, offers=listed)


async def _meeting_point(session: AsyncSession, incident_id: UUID) -> tuple[float, float]:
    center = cast(MobilizationRow.center, Geometry(srid=4326))
    row = (
        await session.execute(
            select(func.ST_X(center), func.ST_Y(center)).where(
                MobilizationRow.incident_id == incident_id
            )
        )
    ).one()
    return float(row[0]), float(row[1])


def _out(outcome: SmsOutcome, language: Language, key: str) -> SmsReplyOut:
    return SmsReplyOut(reply=messages.message(key, language), outcome=outcome)
