"""The mobilizer's decisions inside one transaction: start, waves, answers, timeouts, closing.

Every function takes the session (the caller owns the transaction), changes rows through the
repository and returns the events to put in the outbox. The business `if`s are in the pure
modules (`eligibility`, `ranking`, `waves`); this module reads, asks them, and writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import ceil
from uuid import UUID, uuid4

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import inspect
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
from services.mobilizer.explanation_store import KEEP_PER_ROLE, record_explanations
from services.mobilizer.playbooks import Playbook, Playbooks
from services.mobilizer.progress import OfferState, progress_of
from services.mobilizer.ranking import (
    AcceptanceModel,
    Ranked,
    ResponseModel,
    Router,
    in_order,
    measure,
)
from services.mobilizer.repository import MobilizationRepository
from services.mobilizer.tables import MobilizationRow
from services.mobilizer.waves import (
    Situation,
    WaveDecision,
    decide_wave,
    group_first,
    is_complete,
)
from shared.events import topics
from shared.events.base import Event
from shared.events.incidents import IncidentFacts, IncidentType, Priority
from shared.events.mobilization import (
    GroupUnderstaffed,
    MobilizationStarted,
    MobilizationStatus,
    OfferStatus,
    Shortfall,
    VolunteerOffered,
    WaveSent,
)
from shared.events.volunteers import Role
from shared.outbox import OutgoingEvent
from shared.positions import LivePositions

CANDIDATES_PER_OFFER = 2.5


@dataclass
class Decisions:
    """The events one transaction produces, keyed by incident id on `mobilization.v1`, and the
    explanations it left to write once it is committed (`explain_later`)."""

    events: list[OutgoingEvent] = field(default_factory=list)
    explain_later: bool = False
    """Leave a wave's explanations in `unexplained` rather than writing them in the wave's own
    transaction: a first wave, whose offers should not wait for them."""
    unexplained: list[Unexplained] = field(default_factory=list)

    def add(self, incident_id: UUID, event: Event) -> None:
        self.events.append(
            OutgoingEvent(topic=topics.MOBILIZATION, key=str(incident_id), event=event)
        )


@dataclass(frozen=True)
class Unexplained:
    """A wave's decision and everyone it looked at, for `write_explanations` after its commit."""

    mobilization: MobilizationRow
    radius_m: int
    considered: Considered
    decision: WaveDecision
    now: datetime


async def write_explanations(session: AsyncSession, waves: Sequence[Unexplained]) -> None:
    """Why each volunteer the waves looked at was or was not asked (`record_explanations`), for
    waves committed without theirs (`Decisions.explain_later`)."""
    for wave in waves:
        await record_explanations(
            session,
            wave.mobilization,
            wave.considered,
            wave.decision,
            now=wave.now,
            radius_m=wave.radius_m,
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
    response: ResponseModel = field(default_factory=ResponseModel)
    """How fast people answer: paces the waves."""

    def candidates_for(self, playbook: Playbook) -> int:
        """How many of each role's nearest people a wave near the deadline looks at (earlier ones
        look at `few_candidates`): enough for the most it may ask (`max_offers_per_role_per_wave`)
        after the ineligible (a quarter or so: lapsed
        certificates, minors, off duty, quiet hours) and the people another role takes, and never
        fewer than the explanations keep; at most `candidates_per_role`."""
        wanted = ceil(CANDIDATES_PER_OFFER * playbook.max_offers_per_role_per_wave)
        return min(self.candidates_per_role, max(KEEP_PER_ROLE, wanted))

    def first_wave_candidates(self, playbook: Playbook) -> dict[Role, int]:
        """How many of each role's nearest people the first wave looks at (`few_candidates` for
        every place of the group)."""
        return self.few_candidates(playbook, dict(playbook.roles))

    def few_candidates(
        self, playbook: Playbook, open_places: Mapping[Role, int]
    ) -> dict[Role, int]:
        """How many of each role's nearest people not yet asked a wave looks at while the deadline
        is not near: enough for `first_wave_per_place` per open place (`first_wave_max` in all)
        after the ineligible and the people another role takes. Near the deadline a wave may ask
        many at once: `candidates_for`.

        Only these are explained (a dispatcher asking about anyone further is told the wave did
        not look at them). Looking at `KEEP_PER_ROLE` of every role, as waves did, cost a first
        wave about a quarter more of the mobilizer's CPU, and PostgreSQL's, for explanations."""
        limits = {}
        for role, places in open_places.items():
            most = min(
                playbook.max_offers_per_role_per_wave,
                ceil(playbook.first_wave_per_place * places),
                playbook.first_wave_max,
            )
            wanted = ceil(CANDIDATES_PER_OFFER * most)
            limits[role] = min(self.candidates_per_role, wanted)
        return limits

    def playbook(self, mobilization: MobilizationRow) -> Playbook:
        return self.playbooks.for_incident(
            IncidentType(mobilization.incident_type), Priority(mobilization.priority)
        )


async def start(
    session: AsyncSession, incident: IncidentFacts, *, matching: Matching, now: datetime
) -> Decisions:
    """A new incident: create its mobilisation and send the first wave (its explanations are
    left to write once the wave is committed: `Decisions.unexplained`)."""
    decisions = Decisions(explain_later=True)
    repo = MobilizationRepository(session)
    if await repo.exists(incident.incident_id):
        return decisions
    playbook = matching.playbooks.for_incident(incident.type, incident.priority)
    headline = next((text.headline for text in incident.texts if text.headline), None)
    mobilization = MobilizationRow(
        incident_id=incident.incident_id,
        status=MobilizationStatus.ACTIVE,
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
        offer_budget=playbook.offer_budget(),
        offers_sent=0,
    )
    # Not written yet: `send_wave` inserts it once its first wave is decided, so the row goes in
    # with one INSERT rather than an INSERT and an UPDATE or two.
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
    look_far: bool = False,
) -> None:
    """Load what the wave decision reads, let `waves.decide_wave` decide, and write it down.

    `look_far`: look at as many people as a wave near the deadline would (a dispatcher just
    widened the radius: the few nearest are the ones already asked)."""
    repo = MobilizationRepository(session)
    playbook = matching.playbook(mobilization)
    new = inspect(mobilization).transient  # `start`'s, not in the database yet: no offers
    offers = [] if new else await repo.offer_states(mobilization.incident_id)
    progress = progress_of(mobilization.needed, offers, now=now)
    if is_complete(progress):
        if new:
            await repo.insert(mobilization)
        return
    looking_for = [role for role, p in progress.items() if p.open_places > 0]
    center = to_shape(mobilization.center)
    # While the deadline is not near a wave asks few, so it looks at few (`few_candidates`):
    # a dispatcher waits for the first wave, and every replan every 30 s costs the same.
    time_left_s = (mobilization.deadline_at - now).total_seconds()
    near_deadline = time_left_s <= 2 * min(matching.response.round_s(), playbook.offer_timeout_s)
    # A dispatcher may have widened the radius past the playbook's largest.
    reach_m = max(playbook.max_radius_m, mobilization.radius_m)
    few = (
        None
        if near_deadline or look_far
        else matching.few_candidates(
            playbook, {role: progress[role].open_places for role in looking_for}
        )
    )
    pool = await nearest_candidates(
        session,
        lon=center.x,
        lat=center.y,
        roles={role: matching.playbooks.roles[role].certifications for role in looking_for},
        asked={volunteer for p in progress.values() for volunteer in p.asked},
        day=local_day(now),
        now=now,
        limit=few if few is not None else matching.candidates_for(playbook),
        positions=matching.positions,
        live_within_m=reach_m,
    )
    considered = Considered()
    _consider(mobilization, pool, reach_m, matching, now, roles=looking_for, into=considered)
    budget = offer_budget(mobilization, playbook)
    decision = decide_wave(
        Situation(
            progress=progress,
            candidates=considered.ranked,
            radius_m=mobilization.radius_m,
            elapsed_s=(now - mobilization.started_at).total_seconds(),
            budget=budget,
            offers_sent=mobilization.offers_sent or 0,
            waves_sent=mobilization.wave,
        ),
        playbook=playbook,
        response=matching.response,
    )
    widened = decision.radius_m != mobilization.radius_m
    mobilization.radius_m = decision.radius_m
    mobilization.offer_budget = budget
    # A decision that asks nobody new and reaches no further changes no one's story: the last
    # wave's explanations stand (replans every 30 s would otherwise rewrite them all). A radius
    # a dispatcher widened changes the story of everyone it now reaches.
    if decision.offers or widened or mobilization.wave == 0 or look_far:
        if decisions.explain_later:
            decisions.unexplained.append(
                Unexplained(mobilization, mobilization.radius_m, considered, decision, now)
            )
        else:
            if new:  # the explanations refer to it
                session.add(mobilization)
            await record_explanations(session, mobilization, considered, decision, now=now)
    expected_in_s = decision.expected_complete_in_s
    mobilization.expected_complete_at = (
        now + timedelta(seconds=expected_in_s) if expected_in_s is not None else None
    )
    if decision.offers:
        mobilization.wave = decision.wave
        mobilization.offers_sent = (mobilization.offers_sent or 0) + len(decision.offers)
    mobilization.next_wave_at = (
        now + timedelta(seconds=decision.replan_in_s) if decision.replan_in_s is not None else None
    )
    # A wave that looked at few people per role and did not find every holder of a missing
    # role's certificates has not proven a shortage of people: the decision near the deadline
    # looks further.
    unproven = (
        few is not None
        and decision.cause is Shortfall.TOO_FEW_PEOPLE
        and not all(
            pool.saw_everyone(matching.playbooks.roles[role].certifications)
            for role in decision.missing or {}
        )
    )
    understaffed = bool(decision.missing) and not unproven and mobilization.understaffed_at is None
    if understaffed:
        mobilization.understaffed_at = now
    # Every change to the row is made by now: a new one is written once, before the offers that
    # refer to it (unless explanations written above needed it in the session already).
    if inspect(mobilization).transient:
        await repo.insert(mobilization)
    if decision.offers:
        await write_offers(
            repo,
            mobilization,
            decision,
            considered.ranked,
            playbook=playbook,
            now=now,
            decisions=decisions,
        )
    if understaffed:
        assert decision.missing is not None
        decisions.add(
            mobilization.incident_id,
            GroupUnderstaffed(
                incident_id=mobilization.incident_id,
                missing=dict(decision.missing),
                deadline_at=mobilization.deadline_at,
                reason=_shortfall_text(decision, budget),
                cause=decision.cause,
            ),
        )


def offer_budget(mobilization: MobilizationRow, playbook: Playbook) -> int:
    """The incident's offer budget: as raised by a dispatcher, else the playbook's for its group."""
    if mobilization.offer_budget is not None:
        return mobilization.offer_budget
    return playbook.offer_budget(sum(mobilization.needed.values()))


def _shortfall_text(decision: WaveDecision, budget: int) -> str:
    """The reason in words for logs and old readers (`cause` is the code)."""
    if decision.cause is Shortfall.DEADLINE_PASSED:
        return "deadline passed"
    if decision.cause is Shortfall.BUDGET_SPENT:
        return f"offer budget of {budget} spent"
    return f"not enough likely acceptances within {decision.radius_m / 1000:.0f} km"


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


async def write_offers(
    repo: MobilizationRepository,
    mobilization: MobilizationRow,
    plan: WaveDecision,
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
                "status": OfferStatus.PENDING,
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
        OfferState(
            planned.volunteer_id, planned.role.value, OfferStatus.PENDING, planned.p_accept, now
        )
        for planned in plan.offers
    ]
    decisions.add(
        mobilization.incident_id,
        WaveSent(
            incident_id=mobilization.incident_id,
            wave=plan.wave,
            radius_m=mobilization.radius_m,
            offers=plan.offers_per_role(),
            offers_sent=mobilization.offers_sent,
            offer_budget=plan.budget,
            expected_complete_at=mobilization.expected_complete_at,
        ),
    )
    return sent
