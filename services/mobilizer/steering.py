"""A dispatcher steers a mobilisation: raise its offer budget, widen its radius, release a
member, call it off.

decode → lock the mobilisation → decide (pure: `raised_budget`, `widened_radius`,
`member_to_release`) → save, plan the next wave now where it may ask someone new → publish what
changed (`OfferBudgetRaised`, `RadiusWidened`, `MemberReleased`, `GroupCalledOff`, with
`OfferStoodDown` for each volunteer told). A command for a mobilisation that is over, or a member
who is not one, changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.mobilizer.closing import close
from services.mobilizer.dispatch import Decisions, Matching, send_wave
from services.mobilizer.repository import MobilizationRepository
from services.mobilizer.tables import OfferRow
from shared.events.mobilization import (
    CallOffGroup,
    GroupCalledOff,
    MemberReleased,
    MobilizationStatus,
    OfferBudgetRaised,
    OfferStatus,
    OfferStoodDown,
    RadiusWidened,
    RaiseOfferBudget,
    ReleaseMember,
    StandDownReason,
    WidenRadius,
)
from shared.events.volunteers import Role

log = logging.getLogger(__name__)

# However often it is raised, an incident asks at most this many people in all.
MAX_OFFER_BUDGET = 2_000
# However often a dispatcher widens it, a group reaches at most this far (a region of Kazakhstan
# is a few hundred kilometres across; past this, nobody arrives in time for a call-out).
MAX_WIDENED_RADIUS_M = 300_000
# Widening at least adds this much: doubling a small radius changes little.
MIN_WIDENING_M = 10_000


def raised_budget(budget: int | None, sent: int, by: int) -> int:
    """The budget after adding `by`: never below what was already sent, never above the cap."""
    base = max(budget or 0, sent)
    return min(base + by, MAX_OFFER_BUDGET)


async def raise_budget(
    session: AsyncSession, command: RaiseOfferBudget, *, now: datetime
) -> Decisions:
    decisions = Decisions()
    mobilization = await MobilizationRepository(session).get(command.incident_id)
    if mobilization is None or mobilization.status != MobilizationStatus.ACTIVE:
        log.info("incident %s: budget not raised, no active mobilisation", command.incident_id)
        return decisions
    sent = mobilization.offers_sent or 0
    mobilization.offer_budget = raised_budget(mobilization.offer_budget, sent, command.by)
    # Plan the next wave now; a shortage warned of before may be warned of again.
    mobilization.next_wave_at = now
    mobilization.understaffed_at = None
    decisions.add(
        command.incident_id,
        OfferBudgetRaised(
            incident_id=command.incident_id,
            offer_budget=mobilization.offer_budget,
            offers_sent=sent,
            by=command.by,
            account_id=command.account_id,
        ),
    )
    return decisions


def member_to_release(offers: Sequence[OfferRow], volunteer_id: UUID) -> OfferRow | None:
    """The offer by which `volunteer_id` holds a place in the group; None when they hold none
    (never asked, declined, or released already)."""
    return next(
        (o for o in offers if o.volunteer_id == volunteer_id and o.status == OfferStatus.ACCEPTED),
        None,
    )


async def release_member(
    session: AsyncSession, command: ReleaseMember, *, matching: Matching, now: datetime
) -> Decisions:
    """The member is told they can head back; their place opens and the next wave is planned
    now (a complete group forms again). Nobody released is asked again for the incident."""
    decisions = Decisions()
    repo = MobilizationRepository(session)
    mobilization = await repo.get(command.incident_id)
    if mobilization is None or mobilization.status == MobilizationStatus.CLOSED:
        log.info("incident %s: nobody released, no open mobilisation", command.incident_id)
        return decisions
    offer = member_to_release(await repo.offers_of(command.incident_id), command.volunteer_id)
    if offer is None:
        log.info("incident %s: %s holds no place", command.incident_id, command.volunteer_id)
        return decisions
    offer.status = OfferStatus.STOOD_DOWN
    offer.closed_reason = StandDownReason.RELEASED.value
    await repo.release_commitments(command.incident_id, now=now, volunteer_id=offer.volunteer_id)
    mobilization.status = MobilizationStatus.ACTIVE
    mobilization.completed_at = None
    mobilization.understaffed_at = None
    decisions.add(
        command.incident_id,
        OfferStoodDown(
            incident_id=command.incident_id,
            offer_id=offer.id,
            volunteer_id=offer.volunteer_id,
            role=Role(offer.role),
            reason=StandDownReason.RELEASED,
            language=offer.language,
            contact_phone=offer.contact_phone,
            was_member=True,
        ),
    )
    decisions.add(
        command.incident_id,
        MemberReleased(
            incident_id=command.incident_id,
            volunteer_id=offer.volunteer_id,
            offer_id=offer.id,
            role=Role(offer.role),
            account_id=command.account_id,
        ),
    )
    await send_wave(session, mobilization, matching=matching, now=now, decisions=decisions)
    return decisions


async def call_off(session: AsyncSession, command: CallOffGroup, *, now: datetime) -> Decisions:
    """Every open offer withdrawn, every member told they can head back, everyone freed; the
    incident itself stays as the emergency services said (another group may be called later)."""
    mobilization = await MobilizationRepository(session).get(command.incident_id)
    if mobilization is None or mobilization.status == MobilizationStatus.CLOSED:
        log.info("incident %s: nothing to call off", command.incident_id)
        return Decisions()
    decisions = await close(
        session, command.incident_id, reason=StandDownReason.CALLED_OFF, now=now
    )
    members = sum(
        1
        for outgoing in decisions.events
        if isinstance(outgoing.event, OfferStoodDown) and outgoing.event.was_member
    )
    decisions.add(
        command.incident_id,
        GroupCalledOff(
            incident_id=command.incident_id,
            account_id=command.account_id,
            members_released=members,
        ),
    )
    return decisions


def widened_radius(current_m: int) -> int | None:
    """The radius after a dispatcher widens it: doubled (at least `MIN_WIDENING_M` more), at most
    `MAX_WIDENED_RADIUS_M`; None when it reaches that far already."""
    if current_m >= MAX_WIDENED_RADIUS_M:
        return None
    return min(MAX_WIDENED_RADIUS_M, max(2 * current_m, current_m + MIN_WIDENING_M))


async def widen_radius(
    session: AsyncSession, command: WidenRadius, *, matching: Matching, now: datetime
) -> Decisions:
    """The group reaches further, and a wave looks there at once (still only for people whose
    ETA can make the deadline plus the playbook's arrival allowance)."""
    decisions = Decisions()
    mobilization = await MobilizationRepository(session).get(command.incident_id)
    if mobilization is None or mobilization.status != MobilizationStatus.ACTIVE:
        log.info("incident %s: radius not widened, no group forming", command.incident_id)
        return decisions
    previous = mobilization.radius_m
    wider = widened_radius(previous)
    if wider is None:
        log.info("incident %s: radius %d m is the widest already", command.incident_id, previous)
        return decisions
    mobilization.radius_m = wider
    mobilization.understaffed_at = None
    decisions.add(
        command.incident_id,
        RadiusWidened(
            incident_id=command.incident_id,
            radius_m=wider,
            previous_m=previous,
            account_id=command.account_id,
        ),
    )
    await send_wave(
        session, mobilization, matching=matching, now=now, decisions=decisions, look_far=True
    )
    return decisions
