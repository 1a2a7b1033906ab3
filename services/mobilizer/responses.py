"""A volunteer's answer to an offer: decided once, under the incident's lock.

Late, duplicate, foreign and unknown answers change nothing and are told why (`ResponseRefused`);
the last place of a role goes to exactly one accept; a volunteer already committed elsewhere is
refused by the database's unique index.

"Late" is judged by when the volunteer answered (`occurred_at`, stamped by the API or gateway that
took the answer), not by when it reached the mobilizer: a "yes" given in time that waited in the
broker — a slow phone link, the mobilizer restarting — while the timer timed the offer out still
takes a place if one is open (`TIMED_OUT_ANSWER_GRACE` bounds how long such an answer is looked at).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.mobilizer.closing import complete, stand_down
from services.mobilizer.dispatch import Decisions, Matching, send_wave
from services.mobilizer.progress import progress_of
from services.mobilizer.repository import MobilizationRepository
from services.mobilizer.tables import OfferRow
from services.mobilizer.waves import is_complete
from shared.events.mobilization import (
    Answer,
    MobilizationStatus,
    OfferAccepted,
    OfferDeclined,
    OfferStatus,
    RespondToOffer,
    ResponseRefusal,
    ResponseRefused,
    StandDownReason,
)
from shared.events.volunteers import Role

# A "yes" given before the offer lapsed is honoured if it reaches the mobilizer within this long
# after the lapse; later than that its place has long been offered to others.
TIMED_OUT_ANSWER_GRACE = timedelta(minutes=15)


async def respond(
    session: AsyncSession, answer: RespondToOffer, *, matching: Matching, now: datetime
) -> Decisions:
    decisions = Decisions()
    repo = MobilizationRepository(session)

    def refuse(reason: ResponseRefusal) -> Decisions:
        decisions.add(
            answer.incident_id,
            ResponseRefused(
                incident_id=answer.incident_id,
                offer_id=answer.offer_id,
                volunteer_id=answer.volunteer_id,
                reason=reason,
            ),
        )
        return decisions

    # Locks are taken in one order everywhere: the mobilisation, then its offers (closing and
    # waves do the same), so an answer and a cancellation of one incident cannot deadlock.
    mobilization = await repo.get(answer.incident_id)
    if mobilization is None:
        return refuse(ResponseRefusal.UNKNOWN_OFFER)
    offer = await repo.offer(answer.offer_id)
    if offer is None or offer.incident_id != answer.incident_id:
        return refuse(ResponseRefusal.UNKNOWN_OFFER)
    if offer.volunteer_id != answer.volunteer_id:
        return refuse(ResponseRefusal.NOT_YOUR_OFFER)
    if offer.status == OfferStatus.ACCEPTED and answer.answer is Answer.ACCEPT:
        return decisions  # the same "yes" again: already counted
    if (
        answered_in_time(offer, answer, now=now)
        and mobilization.status == MobilizationStatus.ACTIVE
    ):
        offer.status = (
            OfferStatus.PENDING
        )  # timed out while the answer was on its way: decide it now
    if offer.status != OfferStatus.PENDING or mobilization.status != MobilizationStatus.ACTIVE:
        return refuse(ResponseRefusal.OFFER_CLOSED)

    offer.responded_at = now
    if answer.answer is Answer.DECLINE:
        offer.status = OfferStatus.DECLINED
        decisions.add(
            offer.incident_id,
            OfferDeclined(
                incident_id=offer.incident_id,
                offer_id=offer.id,
                volunteer_id=offer.volunteer_id,
                role=Role(offer.role),
                reason=answer.reason,
            ),
        )
        await send_wave(session, mobilization, matching=matching, now=now, decisions=decisions)
        return decisions

    offers = await repo.offers_of(offer.incident_id)
    role_progress = progress_of(mobilization.needed, offers, now=now)[Role(offer.role)]
    if role_progress.open_places == 0:
        _close(offer, "role_filled")
        return refuse(ResponseRefusal.ROLE_FILLED)
    if answer.eta_s is not None:  # their own word on how long they need beats the estimate
        offer.eta_s = answer.eta_s
    if not await repo.commit_volunteer(offer):
        _close(offer, "committed_elsewhere")
        return refuse(ResponseRefusal.ALREADY_COMMITTED)
    offer.status = OfferStatus.ACCEPTED
    decisions.add(
        offer.incident_id,
        OfferAccepted(
            incident_id=offer.incident_id,
            offer_id=offer.id,
            volunteer_id=offer.volunteer_id,
            role=Role(offer.role),
            eta_s=offer.eta_s,
        ),
    )
    progress = progress_of(mobilization.needed, offers, now=now)
    if is_complete(progress):
        complete(mobilization, offers, now=now, decisions=decisions)
    elif progress[Role(offer.role)].open_places == 0:
        stand_down(
            offers,
            reason=StandDownReason.ROLE_FILLED,
            now=now,
            decisions=decisions,
            role=offer.role,
        )
    return decisions


def answered_in_time(offer: OfferRow, answer: RespondToOffer, *, now: datetime) -> bool:
    """A timed-out offer whose "yes" was given before it lapsed and arrives soon after."""
    return (
        offer.status == OfferStatus.TIMED_OUT
        and answer.answer is Answer.ACCEPT
        and answer.occurred_at <= offer.expires_at
        and now <= offer.expires_at + TIMED_OUT_ANSWER_GRACE
    )


def _close(offer: OfferRow, reason: str) -> None:
    offer.status = OfferStatus.STOOD_DOWN
    offer.closed_reason = reason
