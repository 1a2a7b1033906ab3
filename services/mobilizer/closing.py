"""How a mobilisation's offers end: stood down, timed out, or the whole incident closed.

Like `dispatch`, each function changes rows inside the caller's transaction and adds the events
to announce to `decisions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.mobilizer.dispatch import Decisions, Matching
from services.mobilizer.repository import MobilizationRepository
from services.mobilizer.tables import MobilizationRow, OfferRow
from shared.events.mobilization import (
    GroupCompleted,
    GroupMember,
    MobilizationStatus,
    OfferStatus,
    OfferStoodDown,
    OfferTimedOut,
    StandDownReason,
)
from shared.events.volunteers import Role


def stand_down(
    offers: Sequence[OfferRow],
    *,
    reason: StandDownReason,
    now: datetime,
    decisions: Decisions,
    role: str | None = None,
    members_too: bool = False,
) -> None:
    """Withdraw the pending offers (of one role, or all) and tell each volunteer; with
    `members_too`, also tell those who accepted (they may be on their way) — their offer stays
    accepted, with the reason it ended."""
    for offer in offers:
        if role is not None and offer.role != role:
            continue
        was_member = offer.status == OfferStatus.ACCEPTED
        if offer.status == OfferStatus.PENDING:
            offer.status = OfferStatus.STOOD_DOWN
            offer.responded_at = now
        elif not (members_too and was_member):
            continue
        offer.closed_reason = reason.value
        decisions.add(
            offer.incident_id,
            OfferStoodDown(
                incident_id=offer.incident_id,
                offer_id=offer.id,
                volunteer_id=offer.volunteer_id,
                role=Role(offer.role),
                reason=reason,
                language=offer.language,
                contact_phone=offer.contact_phone,
                was_member=was_member,
            ),
        )


def complete(
    mobilization: MobilizationRow,
    offers: Sequence[OfferRow],
    *,
    now: datetime,
    decisions: Decisions,
) -> None:
    mobilization.status = MobilizationStatus.COMPLETE
    mobilization.completed_at = now
    mobilization.next_wave_at = None
    stand_down(offers, reason=StandDownReason.GROUP_COMPLETE, now=now, decisions=decisions)
    decisions.add(
        mobilization.incident_id,
        GroupCompleted(
            incident_id=mobilization.incident_id,
            members=tuple(
                GroupMember(volunteer_id=o.volunteer_id, role=Role(o.role), eta_s=o.eta_s)
                for o in offers
                if o.status == OfferStatus.ACCEPTED
            ),
        ),
    )


async def time_out(
    session: AsyncSession, *, matching: Matching, now: datetime
) -> tuple[Decisions, Sequence[UUID]]:
    """Offers past their answer time become timeouts, and their mobilisations are due for a wave;
    returns the incidents due for one, the longest overdue first."""
    decisions = Decisions()
    repo = MobilizationRepository(session)
    touched: set[UUID] = set()
    for offer in await repo.expired_offers(now):
        offer.status = OfferStatus.TIMED_OUT
        offer.responded_at = now
        touched.add(offer.incident_id)
        decisions.add(
            offer.incident_id,
            OfferTimedOut(
                incident_id=offer.incident_id,
                offer_id=offer.id,
                volunteer_id=offer.volunteer_id,
                role=Role(offer.role),
            ),
        )
    await repo.make_due(touched, now)
    return decisions, await repo.due_for_a_wave(now)


async def close(
    session: AsyncSession, incident_id: UUID, *, reason: StandDownReason, now: datetime
) -> Decisions:
    """The incident ended: withdraw every open offer, tell the group members they need not come
    (or can go home), and free everyone committed to it."""
    decisions = Decisions()
    repo = MobilizationRepository(session)
    mobilization = await repo.get(incident_id)
    if mobilization is None or mobilization.status == MobilizationStatus.CLOSED:
        return decisions
    mobilization.status = MobilizationStatus.CLOSED
    mobilization.closed_at = now
    mobilization.next_wave_at = None
    stand_down(
        await repo.offers_of(incident_id),
        reason=reason,
        now=now,
        decisions=decisions,
        members_too=True,
    )
    await repo.release_commitments(incident_id, now=now)
    return decisions
