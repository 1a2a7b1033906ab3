"""What a volunteer's answer to an offer comes to, read from the offer as the mobilizer left it.

The mobilizer decides every answer (`responses.v1`); the API only reads the outcome back. The same
reading serves before publishing (an offer already settled is answered at once, and nothing is
sent) and after it (the decision has been written). `None` means "still open": publish, or keep
waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from services.api import messages
from shared.events.mobilization import Answer, MobilizationStatus, OfferStatus
from shared.i18n import Language


@dataclass(frozen=True, slots=True)
class OfferState:
    offer_id: UUID
    incident_id: UUID
    volunteer_id: UUID
    role: str
    status: str  # pending accepted declined timed_out stood_down
    closed_reason: str | None
    eta_s: int
    mobilization_status: str  # active complete closed
    expires_at: datetime | None = None


class Refusal(StrEnum):
    """Why an answer changed nothing; the `reason` of a 409."""

    ROLE_FILLED = "role_filled"
    ALREADY_COMMITTED = "already_committed"
    OFFER_CLOSED = "offer_closed"
    ALREADY_ACCEPTED = "already_accepted"


@dataclass(frozen=True, slots=True)
class Decided:
    status: Literal[OfferStatus.ACCEPTED, OfferStatus.DECLINED]


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal
    why: str  # the `closed.<why>` message, or the state the answer ran into

    def describe(self, language: Language) -> str:
        if self.reason is Refusal.ALREADY_ACCEPTED:
            return messages.message("offer.already_accepted", language)
        return messages.closed(self.why, language)


# A withdrawn offer's `closed_reason` → what the volunteer is told; the rest are `offer_closed`.
_WITHDRAWN = {
    "role_filled": Refusal.ROLE_FILLED,
    "committed_elsewhere": Refusal.ALREADY_COMMITTED,
}


def still_to_decide(offer: OfferState, answer: Answer, *, sent_at: datetime) -> bool:
    """The offer timed out, but this "yes" was sent before it lapsed: the mobilizer, which judges
    answers by when they were given, will still decide it."""
    return (
        answer is Answer.ACCEPT
        and offer.status == OfferStatus.TIMED_OUT
        and offer.expires_at is not None
        and sent_at <= offer.expires_at
    )


def settled(offer: OfferState, answer: Answer) -> Decided | Refused | None:
    """The answer's outcome if the offer no longer waits for one; `None` while it is open.

    The same answer again is not an error: a second "yes" to an accepted offer, or a second "no"
    to a declined one, is answered as the first was.
    """
    if offer.status == OfferStatus.ACCEPTED:
        if answer is Answer.ACCEPT:
            return Decided(OfferStatus.ACCEPTED)
        return Refused(Refusal.ALREADY_ACCEPTED, OfferStatus.ACCEPTED)
    if offer.status == OfferStatus.DECLINED:
        if answer is Answer.DECLINE:
            return Decided(OfferStatus.DECLINED)
        return Refused(Refusal.OFFER_CLOSED, OfferStatus.DECLINED)
    if offer.status == OfferStatus.TIMED_OUT:
        return Refused(Refusal.OFFER_CLOSED, OfferStatus.TIMED_OUT)
    if offer.status == OfferStatus.STOOD_DOWN:
        why = offer.closed_reason or "withdrawn"
        return Refused(_WITHDRAWN.get(why, Refusal.OFFER_CLOSED), why)
    if offer.status != OfferStatus.PENDING:
        return Refused(Refusal.OFFER_CLOSED, "withdrawn")
    # The mobilizer refuses answers once the group is complete or closed, without touching the
    # offer (every pending offer is withdrawn at that moment, so this is the rare race).
    if offer.mobilization_status != MobilizationStatus.ACTIVE:
        return Refused(Refusal.OFFER_CLOSED, "mobilization_ended")
    return None
