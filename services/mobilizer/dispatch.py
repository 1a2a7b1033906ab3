"""The mobilizer's decisions inside one transaction: start, waves, answers, timeouts, closing.

Every function takes the session (the caller owns the transaction), changes rows through the
repository and returns the events to put in the outbox. The business `if`s are in the pure
modules (`eligibility`, `ranking`, `waves`); this module reads, asks them, and writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import ceil
from uuid import UUID, uuid4

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy.ext.asyncio import AsyncSession

from services.mobilizer.candidates import CandidatePool, nearest_candidates
from services.mobilizer.eligibility import (
    Candidate,
    FatigueRules,
    Finding,
    Verdict,
    assess,
    local_day,
    person_findings,
)
from services.mobilizer.explaining import KEEP_PER_ROLE, record_explanations
from services.mobilizer.playbooks import Playbook, Playbooks
from services.mobilizer.progress import OfferState, progress_of
from services.mobilizer.ranking import AcceptanceModel, Ranked, Router, in_order, measure
from services.mobilizer.repository import MobilizationRepository
from services.mobilizer.tables import MobilizationRow
from services.mobilizer.waves import (
    REPLAN_EVERY_S,
    WavePlan,
    group_first,
    is_complete,
    next_radius,
    plan_wave,
    understaffed,
)
from shared.events import topics
from shared.events.base import Event
from shared.events.incidents import IncidentFacts, IncidentType, Priority
from shared.events.mobilization import (
    GroupUnderstaffed,
    MobilizationStarted,
    VolunteerOffered,
    WaveSent,
)
from shared.events.volunteers import Role
from shared.outbox import OutgoingEvent
from shared.positions import LivePositions

CANDIDATES_PER_OFFER = 2.5


@dataclass
class Decisions:
    """The events one transaction produces, keyed by incident id on `mobilization.v1`."""

    events: list[OutgoingEvent] = field(default_factory=list)

    def add(self, incident_id: UUID, event: Event) -> None:
        self.events.append(
            OutgoingEvent(topic=topics.MOBILIZATION, key=str(incident_id), event=event)
        )


@dataclass(frozen=True)
class Matching:
    """What a wave needs besides the database: playbooks, the router, the acceptance model."""

    playbooks: Playbooks
    router: Router
    model: AcceptanceModel
    rules: FatigueRules
    candidates_per_role: int = 100
    positions: LivePositions | None = None
    """Live positions (Redis) to rank from where people are; None: from their homes."""

    def candidates_for(self, playbook: Playbook) -> int:
        """How many of each role's nearest people a wave looks at: enough for the most it may
        ask (`max_offers_per_role_per_wave`) after the ineligible (a quarter or so: lapsed
        certificates, minors, off duty, quiet hours) and the people another role takes, and never
        fewer than the explanations keep; at most `candidates_per_role`."""
        wanted = ceil(CANDIDATES_PER_OFFER * playbook.max_offers_per_role_per_wave)
        return min(self.candidates_per_role, max(KEEP_PER_ROLE, wanted))

    def playbook(self, mobilization: MobilizationRow) -> Playbook:
        return self.playbooks.for_incident(
            IncidentType(mobilization.incident_type), Priority(mobilization.priority)
        )


async def start(
    session: AsyncSession, incident: IncidentFacts, *, matching: Matching, now: datetime
) -> Decisions:
    """A new incident: create its mobilisation and send the first wave."""
    decisions = Decisions()
    repo = MobilizationRepository(session)
    if await repo.get(incident.incident_id) is not None:
        return decisions
    playbook = matching.playbooks.for_incident(incident.type, incident.priority)
    headline = next((text.headline for text in incident.texts if text.headline), None)
    mobilization = MobilizationRow(
        incident_id=incident.incident_id,
        status="active",
        playbook=playbook.name,
        incident_type=incident.type.value,
        priority=incident.priority.value,
        is_exercise=incident.is_exercise,
        headline=headline,
        center=from_shape(Point(incident.center_lon, incident.center_lat), srid=4326),
        region_code=incident.region_codes[0] if incident.region_codes else None,
        needed={role.value: count for role, count in playbook.roles},
        radius_m=playbook.first_radius_m,
        wave=0,
        started_at=now,
        deadline_at=now + timedelta(seconds=playbook.deadline_s),
        incident_version=incident.version,
    )
    await repo.add(mobilization)
    decisions.add(
        incident.incident_id,
        MobilizationStarted(
            incident_id=incident.incident_id,
            playbook=playbook.name,
            needed=playbook.needed(),
            deadline_at=mobilization.deadline_at,
            is_exercise=incident.is_exercise,
        ),
    )
    await send_wave(session, mobilization, matching=matching, now=now, decisions=decisions)
    return decisions


async def send_wave(
    session: AsyncSession,
    mobilization: MobilizationRow,
    *,
    matching: Matching,
    now: datetime,
    decisions: Decisions,
) -> None:
    """Ask the next people for the open places, widening the radius while a role falls short."""
    repo = MobilizationRepository(session)
    playbook = matching.playbook(mobilization)
    offers = await repo.offer_states(mobilization.incident_id)
    progress = progress_of(mobilization.needed, offers, now=now)
    if is_complete(progress):
        return
    radius = mobilization.radius_m
    considered = Considered()
    looking_for = [role for role, p in progress.items() if p.open_places > 0]
    center = to_shape(mobilization.center)
    pool = await nearest_candidates(
        session,
        lon=center.x,
        lat=center.y,
        roles={role: matching.playbooks.roles[role].certifications for role in looking_for},
        asked={volunteer for p in progress.values() for volunteer in p.asked},
        day=local_day(now),
        now=now,
        limit=matching.candidates_for(playbook),
        positions=matching.positions,
        live_within_m=playbook.max_radius_m,
    )
    while True:
        # Widening looks again only for the roles that fell short; the others keep their list.
        _consider(mobilization, pool, radius, matching, now, roles=looking_for, into=considered)
        ranked = considered.ranked
        plan = plan_wave(progress, ranked, playbook=playbook, wave_number=mobilization.wave + 1)
        wider = next_radius(radius, playbook) if plan.short_roles else None
        if wider is None or not pool.beyond(plan.short_roles, radius, playbook.max_radius_m):
            break  # nobody further out to gain: the next wave looks at the next nearest people
        radius = wider
        looking_for = list(plan.short_roles)
    mobilization.radius_m = radius
    await record_explanations(session, mobilization, considered, plan, now=now)
    if plan.offers:
        mobilization.wave = plan.wave
        sent = await _send(
            repo, mobilization, plan, ranked, playbook=playbook, now=now, decisions=decisions
        )
        progress = progress_of(mobilization.needed, [*offers, *sent], now=now)
    # Replan while offers are out (silence makes them count for less), or look again after a
    # timeout's worth of time if nobody could be asked at all.
    waiting = any(p.pending for p in progress.values())
    mobilization.next_wave_at = now + timedelta(
        seconds=REPLAN_EVERY_S if waiting else playbook.offer_timeout_s
    )
    missing = understaffed(
        progress,
        ranked,
        now=now,
        deadline_at=mobilization.deadline_at,
        offer_timeout_s=playbook.offer_timeout_s,
    )
    if missing and mobilization.understaffed_at is None:
        mobilization.understaffed_at = now
        decisions.add(
            mobilization.incident_id,
            GroupUnderstaffed(
                incident_id=mobilization.incident_id,
                missing=missing,
                deadline_at=mobilization.deadline_at,
                reason=(
                    "deadline passed"
                    if now >= mobilization.deadline_at
                    else f"not enough likely acceptances within {radius / 1000:.0f} km"
                ),
            ),
        )


@dataclass
class Considered:
    """Everyone a wave looked at: each role's eligible people in order, and every verdict."""

    ranked: dict[Role, Sequence[Ranked]] = field(default_factory=dict)
    verdicts: dict[UUID, dict[Role, Verdict]] = field(default_factory=dict)
    people: dict[UUID, Candidate] = field(default_factory=dict)
    measured: dict[UUID, Ranked] = field(default_factory=dict)
    """ETA, distance and acceptance estimate per person: the same whatever the role."""
    person: dict[UUID, tuple[Finding, ...]] = field(default_factory=dict)
    """Each person's findings that do not depend on the role."""


def _consider(
    mobilization: MobilizationRow,
    pool: CandidatePool,
    radius_m: int,
    matching: Matching,
    now: datetime,
    *,
    roles: Sequence[Role],
    into: Considered,
) -> None:
    playbook = matching.playbook(mobilization)
    center = to_shape(mobilization.center)
    codes = [mobilization.region_code] if mobilization.region_code else []
    considered = into
    for role in roles:
        eligible = []
        for nearby in pool.within(role, radius_m):
            candidate = nearby.candidate
            person = considered.person.get(candidate.volunteer_id)
            if person is None:
                person = person_findings(
                    candidate,
                    playbook=playbook,
                    now=now,
                    incident_id=mobilization.incident_id,
                    rules=matching.rules,
                )
                considered.person[candidate.volunteer_id] = person
            verdict = assess(
                candidate,
                role,
                playbook=playbook,
                roles=matching.playbooks.roles,
                now=now,
                incident_id=mobilization.incident_id,
                rules=matching.rules,
                person=person,
            )
            considered.people[candidate.volunteer_id] = candidate
            considered.verdicts.setdefault(candidate.volunteer_id, {})[role] = verdict
            if not verdict.eligible:
                continue
            measured = considered.measured.get(candidate.volunteer_id)
            if measured is None:
                [measured] = measure(
                    [(candidate, nearby.distance_m)],
                    incident_lon=center.x,
                    incident_lat=center.y,
                    router=matching.router,
                    model=matching.model,
                    now=now,
                    is_urgent=playbook.urgent,
                )
                considered.measured[candidate.volunteer_id] = measured
            eligible.append(measured)
        considered.ranked[role] = group_first(in_order(eligible), role, region_codes=codes)


async def _send(
    repo: MobilizationRepository,
    mobilization: MobilizationRow,
    plan: WavePlan,
    ranked: dict[Role, Sequence[Ranked]],
    *,
    playbook: Playbook,
    now: datetime,
    decisions: Decisions,
) -> list[OfferState]:
    """Write the wave's offers and their events; returns them as progress counts them."""
    people = {r.volunteer_id: r.candidate for rs in ranked.values() for r in rs}
    expires_at = now + timedelta(seconds=playbook.offer_timeout_s)
    rows = []
    for planned in plan.offers:
        candidate = people[planned.volunteer_id]
        # Plain values, not ORM objects: a wave may hold hundreds of offers.
        offer_id = uuid4()
        rows.append(
            {
                "id": offer_id,
                "incident_id": mobilization.incident_id,
                "volunteer_id": planned.volunteer_id,
                "role": planned.role.value,
                "wave": plan.wave,
                "status": "pending",
                "eta_s": planned.eta_s,
                "distance_m": planned.distance_m,
                "p_accept": planned.p_accept,
                "offered_at": now,
                "expires_at": expires_at,
                "language": candidate.language,
                "contact_phone": candidate.phone,
            }
        )
        decisions.add(
            mobilization.incident_id,
            VolunteerOffered(
                incident_id=mobilization.incident_id,
                offer_id=offer_id,
                volunteer_id=planned.volunteer_id,
                role=planned.role,
                wave=plan.wave,
                eta_s=planned.eta_s,
                distance_m=planned.distance_m,
                expires_at=expires_at,
                language=candidate.language,
                contact_phone=candidate.phone,
                incident_type=IncidentType(mobilization.incident_type),
                priority=Priority(mobilization.priority),
                is_exercise=mobilization.is_exercise,
                headline=mobilization.headline,
            ),
        )
    await repo.add_offers(rows)
    sent = [
        OfferState(planned.volunteer_id, planned.role.value, "pending", planned.p_accept, now)
        for planned in plan.offers
    ]
    decisions.add(
        mobilization.incident_id,
        WaveSent(
            incident_id=mobilization.incident_id,
            wave=plan.wave,
            radius_m=mobilization.radius_m,
            offers=plan.offers_per_role(),
        ),
    )
    return sent
