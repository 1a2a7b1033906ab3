"""A dispatcher steers a mobilisation: raise its offer budget, widen its radius, ask a named
volunteer, release a member, call it off.

decode → lock the mobilisation → decide (pure: `raised_budget`, `widened_radius`,
`member_to_release`, `ask_refusal` and `blocking`) → save, plan the next wave now where it may
ask someone new → publish what changed (`OfferBudgetRaised`, `RadiusWidened`, `VolunteerOffered`
or `VolunteerNotAsked`, `MemberReleased`, `GroupCalledOff`, with `OfferStoodDown` for each
volunteer told). A command for a mobilisation that is over, or a member who is not one, changes
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final
from uuid import UUID

from geoalchemy2.shape import to_shape
from sqlalchemy.ext.asyncio import AsyncSession

from services.mobilizer.candidates import named_candidates
from services.mobilizer.closing import close
from services.mobilizer.dispatch import (
    Considered,
    Decisions,
    Matching,
    offer_budget,
    send_wave,
    write_offers,
)
from services.mobilizer.eligibility import Finding, Reason, assess
from services.mobilizer.explanation_store import record_explanations
from services.mobilizer.progress import progress_of
from services.mobilizer.ranking import geodesic_distance_m, measure, position_of
from services.mobilizer.repository import MobilizationRepository
from services.mobilizer.tables import MobilizationRow, OfferRow
from services.mobilizer.waves import PlannedOffer, RoleProgress, WaveDecision
from shared.events.mobilization import (
    AskRefusal,
    AskVolunteer,
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
    VolunteerNotAsked,
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


# Limits that keep matching from asking the same people too often, and what it prefers (how they
# travel): a dispatcher asking one person by name decides those. The rest stand: training that
# fits and is valid, age, availability the volunteer set (off duty, quiet hours), another group.
DISPATCHER_DECIDES: Final = frozenset(
    {
        Reason.TOO_MANY_CALLOUTS_TODAY,
        Reason.TOO_MANY_CALLOUTS_THIS_WEEK,
        Reason.TOO_MANY_OFFERS_TODAY,
        Reason.TOO_MANY_OFFERS_THIS_WEEK,
        Reason.RESTING_AFTER_DEPLOYMENT,
        Reason.UNSUITABLE_TRANSPORT,
    }
)


def ask_refusal(
    status: str, progress: Mapping[Role, RoleProgress], role: Role, volunteer_id: UUID
) -> AskRefusal | None:
    """Why a named volunteer cannot be asked for `role` now, before looking at them; None: look."""
    if status != MobilizationStatus.ACTIVE:
        return AskRefusal.NOT_FORMING
    if role not in progress or progress[role].open_places == 0:
        return AskRefusal.ROLE_NOT_OPEN
    if any(volunteer_id in p.asked for p in progress.values()):
        return AskRefusal.ALREADY_ASKED
    return None


def blocking(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """The findings that stop even a dispatcher's own choice (`DISPATCHER_DECIDES` do not)."""
    return tuple(f for f in findings if f.reason not in DISPATCHER_DECIDES)


async def ask_volunteer(
    session: AsyncSession, command: AskVolunteer, *, matching: Matching, now: datetime
) -> Decisions:
    """One offer to the named volunteer, at once and counted as a wave of its own, with their
    explanation; or `VolunteerNotAsked` saying why (their explanation says the details)."""
    decisions = Decisions()
    repo = MobilizationRepository(session)
    mobilization = await repo.get(command.incident_id)
    if mobilization is None:
        log.info("incident %s: nobody asked, no mobilisation", command.incident_id)
        return decisions

    def refuse(reason: AskRefusal, findings: Sequence[Finding] = ()) -> Decisions:
        decisions.add(
            command.incident_id,
            VolunteerNotAsked(
                incident_id=command.incident_id,
                volunteer_id=command.volunteer_id,
                role=command.role,
                reason=reason,
                findings=[f.reason.value for f in findings],
                account_id=command.account_id,
            ),
        )
        return decisions

    progress = progress_of(
        mobilization.needed, await repo.offer_states(command.incident_id), now=now
    )
    refusal = ask_refusal(mobilization.status, progress, command.role, command.volunteer_id)
    if refusal is not None:
        return refuse(refusal)
    found = await named_candidates(session, [command.volunteer_id], now=now)
    if not found:
        return refuse(AskRefusal.UNKNOWN_VOLUNTEER)
    [candidate] = found
    playbook = matching.playbook(mobilization)
    verdict = assess(
        candidate,
        command.role,
        playbook=playbook,
        roles=matching.playbooks.roles,
        now=now,
        incident_id=command.incident_id,
        rules=matching.rules,
    )
    center = to_shape(mobilization.center)
    [measured] = measure(
        [(candidate, geodesic_distance_m(*position_of(candidate, now=now), center.x, center.y))],
        incident_lon=center.x,
        incident_lat=center.y,
        router=matching.router,
        model=matching.model,
        now=now,
        is_urgent=playbook.urgent,
    )
    considered = Considered(
        ranked={command.role: [measured]},
        verdicts={candidate.volunteer_id: {command.role: verdict}},
        people={candidate.volunteer_id: candidate},
        measured={candidate.volunteer_id: measured},
    )
    stops = blocking(verdict.findings)
    asked = (
        ()
        if stops
        else (
            PlannedOffer(
                command.role,
                candidate.volunteer_id,
                measured.eta_s,
                measured.distance_m,
                measured.p_accept,
            ),
        )
    )
    plan = _single(mobilization, asked, budget=offer_budget(mobilization, playbook))
    await record_explanations(session, mobilization, considered, plan, now=now)
    if stops:
        return refuse(AskRefusal.NOT_ELIGIBLE, stops)
    mobilization.wave = plan.wave
    mobilization.offers_sent = (mobilization.offers_sent or 0) + 1
    await write_offers(
        repo,
        mobilization,
        plan,
        considered.ranked,
        playbook=playbook,
        now=now,
        decisions=decisions,
    )
    return decisions


def _single(
    mobilization: MobilizationRow, offers: tuple[PlannedOffer, ...], *, budget: int
) -> WaveDecision:
    """A dispatcher's offer as a wave of its own (no widening, no forecast: nothing planned)."""
    sent = (mobilization.offers_sent or 0) + len(offers)
    return WaveDecision(
        wave=mobilization.wave + (1 if offers else 0),
        offers=offers,
        radius_m=mobilization.radius_m,
        short_roles=(),
        fill_probability={},
        rounds_left=0,
        budget=budget,
        budget_left=max(0, budget - sent),
        expected_complete_in_s=None,
        missing=None,
        cause=None,
    )
