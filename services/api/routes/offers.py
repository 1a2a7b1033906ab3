"""A volunteer answers an offer: `POST /api/v1/offers/{offer_id}/accept` or `/decline`.

read the offer → settled already? answer at once → publish `RespondToOffer` on `responses.v1`
→ wait (a few seconds at most) for the mobilizer's decision in the offers table → answer.

The mobilizer decides; the API never writes an offer. An answer not decided in time is reported
as queued (202): it stays on the topic and is decided all the same. Only the volunteer the offer
was made to answers it: signed in (`VolunteerDep`), or through the signed answer link of the SMS
(`answer_page`). The API stamps the answer with the time it received it; nobody else writes
`responses.v1` (the broker's ACLs), so no answer can be back-dated.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api import callouts, messages
from services.api.answers import Decided, OfferState, Refused, settled, still_to_decide
from services.api.auth.deps import VolunteerDep
from services.api.auth.principals import Principal
from services.api.deps import LanguageDep, PublisherDep, SessionmakerDep, SettingsDep
from services.api.errors import NotYourOffer, OfferNotFound
from services.api.publisher import EventPublisher
from services.api.schemas import OfferAnswer, OfferAnswered, OfferRefused, Problem
from services.api.settings import ApiSettings
from shared.events import topics
from shared.events.mobilization import Answer, OfferStatus, RespondToOffer
from shared.i18n import Language

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/offers", tags=["offers"])

AnswerBody = Annotated[OfferAnswer | None, Body()]
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": OfferAnswered, "description": "Decided (or the same answer given before)"},
    202: {"model": OfferAnswered, "description": "Queued: not decided in time, decided shortly"},
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "Not a volunteer, or the offer was made to another"},
    404: {"model": Problem, "description": "No such offer"},
    409: {"model": OfferRefused, "description": "Closed, or the place went to someone else"},
    503: {"model": Problem, "description": "The broker cannot take the answer; send it again"},
}


@router.post(
    "/{offer_id}/accept",
    response_model=OfferAnswered,
    responses=RESPONSES,
    summary="Accept an offer: take a place in the group if one is still open",
)
async def accept_offer(
    offer_id: UUID,
    principal: VolunteerDep,
    sessionmaker: SessionmakerDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    language: LanguageDep,
    body: AnswerBody = None,
) -> JSONResponse:
    return await _answer(
        offer_id,
        principal,
        Answer.ACCEPT,
        body or OfferAnswer(),
        sessionmaker=sessionmaker,
        publisher=publisher,
        settings=settings,
        language=language,
    )


@router.post(
    "/{offer_id}/decline",
    response_model=OfferAnswered,
    responses=RESPONSES,
    summary="Decline an offer; someone else is asked in your place",
)
async def decline_offer(
    offer_id: UUID,
    principal: VolunteerDep,
    sessionmaker: SessionmakerDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    language: LanguageDep,
    body: AnswerBody = None,
) -> JSONResponse:
    return await _answer(
        offer_id,
        principal,
        Answer.DECLINE,
        body or OfferAnswer(),
        sessionmaker=sessionmaker,
        publisher=publisher,
        settings=settings,
        language=language,
    )


async def _answer(
    offer_id: UUID,
    principal: Principal,
    answer: Answer,
    body: OfferAnswer,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    publisher: EventPublisher,
    settings: ApiSettings,
    language: Language,
) -> JSONResponse:
    if principal.volunteer_id is None:
        raise NotYourOffer(offer_id)
    offer, outcome = await decide(
        offer_id,
        answer,
        body,
        volunteer_id=principal.volunteer_id,
        sessionmaker=sessionmaker,
        publisher=publisher,
        settings=settings,
        channel="api",
    )
    return _reply(offer, outcome, language=language)


async def decide(
    offer_id: UUID,
    answer: Answer,
    body: OfferAnswer,
    *,
    volunteer_id: UUID,
    sessionmaker: async_sessionmaker[AsyncSession],
    publisher: EventPublisher,
    settings: ApiSettings,
    channel: str,
    known: OfferState | None = None,
    eta_s: int | None = None,
) -> tuple[OfferState, Decided | Refused | None]:
    """Send the answer unless the offer is settled; the offer and its outcome (None: queued).
    `volunteer_id`: who answers, as their sign-in, answer link or phone number proved; `known`:
    the offer as the caller has just read it, so it is not read again; `eta_s`: with a yes, the
    volunteer's own word on how long they need."""
    offer = known if known is not None else await _read(sessionmaker, offer_id)
    if offer is None:
        raise OfferNotFound(offer_id)
    if volunteer_id != offer.volunteer_id:
        raise NotYourOffer(offer_id)
    outcome = settled(offer, answer)
    if outcome is not None:
        return offer, outcome
    sent = RespondToOffer(
        incident_id=offer.incident_id,
        offer_id=offer.offer_id,
        volunteer_id=offer.volunteer_id,
        answer=answer,
        reason=body.reason if answer is Answer.DECLINE else None,
        channel=channel,
        eta_s=eta_s if answer is Answer.ACCEPT else None,
    )
    await publisher.publish(topics.RESPONSES, key=offer.incident_id, event=sent)
    log.info("incident %s: %s of offer %s sent", offer.incident_id, answer.value, offer.offer_id)
    return await _decision(
        sessionmaker,
        offer,
        answer,
        sent_at=sent.occurred_at,
        wait_s=settings.api.answer_wait_s,
        interval_s=settings.api.answer_poll_interval_s,
    )


async def _read(
    sessionmaker: async_sessionmaker[AsyncSession], offer_id: UUID
) -> OfferState | None:
    # A short session per read: a request waiting for a decision holds no pooled connection.
    async with sessionmaker() as session:
        return await callouts.offer_state(session, offer_id)


async def _decision(
    sessionmaker: async_sessionmaker[AsyncSession],
    offer: OfferState,
    answer: Answer,
    *,
    sent_at: datetime,
    wait_s: float,
    interval_s: float,
) -> tuple[OfferState, Decided | Refused | None]:
    """The offer once the mobilizer has decided, or as it stands after `wait_s` (then `None`)."""
    deadline = time.monotonic() + wait_s
    while True:
        current = await _read(sessionmaker, offer.offer_id) or offer
        outcome = (
            None if still_to_decide(current, answer, sent_at=sent_at) else settled(current, answer)
        )
        remaining = deadline - time.monotonic()
        if outcome is not None or remaining <= 0:
            return current, outcome
        await asyncio.sleep(min(interval_s, remaining))


def _reply(
    offer: OfferState, outcome: Decided | Refused | None, *, language: Language
) -> JSONResponse:
    headers = {"Content-Language": language}
    if isinstance(outcome, Refused):
        refused = OfferRefused.model_validate(
            {
                "detail": outcome.describe(language),
                "reason": outcome.reason.value,
                "offer_status": offer.status,
                "closed_reason": offer.closed_reason,
            }
        )
        return JSONResponse(refused.model_dump(mode="json"), status_code=409, headers=headers)
    status = OfferStatus.PENDING if outcome is None else outcome.status
    answered = OfferAnswered.model_validate(
        {
            "status": status,
            "offer_id": offer.offer_id,
            "incident_id": offer.incident_id,
            "role": offer.role,
            "eta_s": offer.eta_s if status is OfferStatus.ACCEPTED else None,
            "message": messages.message(f"offer.{status}", language),
        }
    )
    return JSONResponse(
        answered.model_dump(mode="json"),
        status_code=202 if outcome is None else 200,
        headers=headers,
    )
