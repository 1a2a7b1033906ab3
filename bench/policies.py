"""Which way of calling volunteers out gets a whole group on scene soonest, asking the fewest?

A seeded discrete-event simulation over a synthetic population (`generate_volunteers`, with the
standing groups of `plan_mobile_groups`) and incidents at real settlements, using the real
playbooks, eligibility and router. Five policies face the same volunteers, who give each policy the
same answer (common random numbers):
  jedel      — `waves.decide_wave`, the very function the mobilizer calls: the standing group
               first, ranked by ETA then acceptance, waves paced by the time left to the deadline,
               nobody asked who cannot arrive in time, a budget per incident; decided again after
               every answer and when the decision's timer falls due;
  broadcast  — everyone eligible in the radius at once, first come first served; the radius widens
               when the offers still out can no longer fill a role;
  anchor-30  — an anchor-sized broadcast (HartslagNu alerts at most 30 people within 1–2 km): the
               30 nearest within 2 km, the radius doubled until 30 are found; the next 30 once the
               offers out can no longer fill the group;
  sequential — per role one offer at a time, nearest (straight line) first;
  nearest-3  — per role three offers out per open place, nearest first.
Each policy is scored on the time until the whole group is on scene (the last member's accept time +
ETA), the time to the last acceptance, groups complete by the deadline and offers per filled place,
against the 1/p floor computed from the same population; under Jedel's own answer model and three
it does not assume (answers with median 60 s and 180 s; acceptance falling with distance and at
night). Then a month of incidents arriving per region, volunteers busy while deployed and the
fatigue limits applied, for the offers each volunteer receives in a month.
Aims (default answer model, exits 1 when missed): Jedel's median time to the whole group on scene ≤
broadcast's; offers per filled place ≤ 2× the 1/p floor; groups complete in time (by the deadline,
every member there by the arrival cut-off) no worse than broadcast's minus 2 points — complete by
the deadline whatever the arrival is reported too; p99 offers per volunteer per month ≤ 8 at the
stated rate (`--stress` reports it at every registered emergency too, ten times that).
Run: .venv/bin/python -m bench.policies [--population N] [--incidents N] [--seed N]
         [--per-region-per-day R] [--stress]
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import itertools
import math
import statistics
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import perf_counter
from uuid import UUID

import numpy as np

from services.api.seed.groups import MemberDraft, plan_mobile_groups
from services.api.seed.population import VolunteerDraft, generate_volunteers
from services.mobilizer.eligibility import Candidate, Certificate, FatigueRules, roles_for
from services.mobilizer.playbooks import Playbook, Playbooks, load_playbooks
from services.mobilizer.ranking import (
    AcceptanceModel,
    GeodesicRouter,
    Ranked,
    ResponseModel,
    rank,
    within,
)
from services.mobilizer.waves import (
    Outstanding,
    RoleProgress,
    Situation,
    decide_wave,
    group_first,
    next_radius,
)
from shared.events.incidents import IncidentType, Priority
from shared.events.volunteers import Availability, CertificationType, Role
from shared.reference import KAZAKHSTAN_TZ, Settlement, load_regions, load_settlements

TODAY = date(2026, 4, 2)
AIM_ON_SCENE_RATIO, AIM_FLOOR_MULTIPLE, AIM_DEADLINE_POINTS, AIM_MONTH_P99 = 1.0, 2.0, 0.02, 8
URBAN_POPULATION = 50_000
ACCEPT_BETA = (2.5, 7.5)  # mean 0.25; 90 % of volunteers between 7 % and 49 %
HISTORY_OFFERS_MEAN = 6.0
NIGHT_FACTOR = 0.8
NIGHT_END_HOUR = 6
TYPE_WEIGHTS = {
    IncidentType.FLOOD: 0.15,
    IncidentType.WILDFIRE: 0.12,
    IncidentType.BLIZZARD: 0.10,
    IncidentType.MUDFLOW: 0.05,
    IncidentType.EARTHQUAKE: 0.05,
    IncidentType.BUILDING_COLLAPSE: 0.08,
    IncidentType.MISSING_PERSON: 0.30,
    IncidentType.OTHER: 0.15,
}
PRIORITY_WEIGHTS = {
    Priority.CRITICAL: 0.2,
    Priority.HIGH: 0.3,
    Priority.MEDIUM: 0.3,
    Priority.LOW: 0.2,
}
MAX_SIMULATED_S = 6 * 3600  # the replanning timer stops; groups not complete by then never are
WINDOW = 100  # candidates per role a decision sees: the mobilizer's `candidates_per_role`
RADIUS_MARGIN = 1.01  # haversine picks the pool, the router's geodesic decides the radius
ANCHOR_BATCH, ANCHOR_FIRST_M = 30, 2_000
# Registered emergencies: "more than 5,500 emergency situations and incidents" in January–June
# 2024 (the Ministry for Emergency Situations' half-year results, The Astana Times, 31 July 2024),
# about 11,000 a year, 1.5 a day per region over the 20 regions. Most are fires and accidents the
# professional services handle alone; Jedel is assumed to mobilise volunteers for one in ten of
# them, 0.15 a day per region (4.5 a month), missing-person searches included.
REGISTERED_PER_REGION_PER_DAY = 11_000 / 365 / 20
MOBILISED_SHARE = 0.10
DEPLOYMENT_H = 4.0  # how long an accepted volunteer is busy after arriving (an assumption)
MONTH_DAYS = 30


@dataclass(frozen=True)
class AnswerModel:
    """How the simulated volunteers answer (Jedel's `ResponseModel` assumes the default)."""

    name: str
    median_s: float = 90.0
    sigma: float = 0.8
    silent_share: float = 0.5
    half_distance_km: float | None = None
    """Acceptance halves every this many kilometres from the incident; None: no effect."""
    night_factor: float = NIGHT_FACTOR
    night_for_urgent: bool = False
    """Whether night lowers acceptance of urgent offers too (critical alerts ring through)."""


ANSWER_MODELS = (
    AnswerModel("Jedel's own (median 90 s)"),
    AnswerModel("median 60 s", median_s=60.0),
    AnswerModel("median 180 s", median_s=180.0),
    AnswerModel(
        "distance and night", half_distance_km=10.0, night_factor=0.5, night_for_urgent=True
    ),
)


def assumptions() -> str:
    return f"""\
assumptions (sources):
  acceptance: each volunteer's own probability ~ Beta{ACCEPT_BETA} (mean 25 %, 90 % of people
    between 7 % and 49 %), ×{NIGHT_FACTOR} for non-urgent offers at 00–06; published responder-app
    acceptance runs from about 5 % to 47 % (17–47 % in the studies reviewed by Khalemsky et al.
    2023, JMIR mHealth 11:e41551)
  history: past offers ~ Poisson({HISTORY_OFFERS_MEAN:g}), accepts ~ Binomial(offers, p); Jedel's
    estimate is the Beta(1, 3) posterior mean (ranking.AcceptanceModel) — it never sees p itself
  answers: delay ~ lognormal (median per model, σ 0.8: p90 ≈ 2.8× the median); half of those who
    do not accept never answer; an answer after the offer timeout counts as a timeout. Jedel's
    ResponseModel assumes median 90 s, σ 0.8, half silent whatever the model
  travel: GeodesicRouter — geodesic × 1.3 (circuity 1.2–1.4, Ballou et al. 2002) at foot 2.3 m/s
    (Jonsson et al. 2020, Resuscitation 151:197), bicycle 4.5, car 13.9, off-road 11.1 m/s,
    +120 s to get ready (median turnout 1:45 min, Resuscitation 2025;110772); home positions
  on scene: the last member there, max(accept time + ETA); a group never complete is never there
  1/p floor: offers per filled place if every offer had the mean chance of an accept in time of
    the eligible people within the first radius (answers as drawn)
  incidents: independent, at settlements (half urban weighted by population, half rural), every
    volunteer free; places go first come, first served; jedel, sequential and nearest-3 stand a
    role's outstanding offers down when it fills, broadcast's and anchor-30's offers are for the
    group, so their accepts after the places are gone are "too late"
  month: {REGISTERED_PER_REGION_PER_DAY:.2f} registered emergencies a day per region (about
    11,000 a year: "more than 5,500 emergency situations and incidents" in January–June 2024, the
    Ministry for Emergency Situations' half-year results, The Astana Times 31 July 2024), of which
    Jedel mobilises for {MOBILISED_SHARE:.0%} (an assumption); an accepted volunteer is busy until
    {DEPLOYMENT_H:g} h after arriving; offers and call-outs count towards the fatigue limits
"""


@dataclass(frozen=True)
class Incident:
    incident_id: UUID
    playbook: Playbook
    lon: float
    lat: float
    region_code: str
    urban: bool
    now: datetime


@dataclass(frozen=True)
class Answer:
    accepts: bool
    delay_s: float
    silent: bool

    def after(self, timeout_s: int) -> tuple[str, float]:
        if self.silent or self.delay_s > timeout_s:
            return "timeout", float(timeout_s)
        return ("accept" if self.accepts else "decline"), self.delay_s


@dataclass
class Scene:
    """What every policy sees of one incident: the eligible candidates and their answers.

    Eligibility and ranking are worked out ring by ring as policies widen their radius (`reach`),
    so a city incident never evaluates the whole country; the answers are drawn up front for
    everyone within the largest radius, so every policy gets the same answer from the same person.
    """

    world: World
    incident: Incident
    playbooks: Playbooks
    seed: int
    model: AnswerModel = ANSWER_MODELS[0]
    radius_m: int = 0
    eligible: list[Candidate] = field(default_factory=list)
    roles_of: dict[UUID, tuple[Role, ...]] = field(default_factory=dict)
    answers: dict[UUID, Answer] = field(default_factory=dict)
    by_eta: dict[Role, list[Ranked]] = field(default_factory=dict)
    by_distance: dict[Role, list[Ranked]] = field(default_factory=dict)
    everyone_by_distance: list[Ranked] = field(default_factory=list)
    floor_people: int = 0
    """Eligible people within the first radius, and of them those who accept in time."""
    floor_accepts: int = 0

    def __post_init__(self) -> None:
        playbook, world, model = self.incident.playbook, self.world, self.model
        mask = 0
        for role, _ in playbook.roles:
            for kind in self.playbooks.roles[role].certifications:
                mask |= CERTIFICATION_BITS[kind]
        distance_m = _haversine_m(world.lon, world.lat, self.incident.lon, self.incident.lat)
        near = (distance_m <= playbook.max_radius_m * RADIUS_MARGIN) & world.available
        pool = np.nonzero(near & ((world.certified & mask) != 0))[0]
        self._pool = pool[np.argsort(distance_m[pool], kind="stable")]
        self._pool_m = distance_m[self._pool]
        self._reached = 0
        rng = np.random.default_rng([self.seed, 3, self.incident.incident_id.int % 2**32])
        p = world.p_true[self._pool]
        if self.incident.now.hour < NIGHT_END_HOUR and (
            model.night_for_urgent or not playbook.urgent
        ):
            p = p * model.night_factor
        if model.half_distance_km is not None:
            p = p * 0.5 ** (self._pool_m / 1000 / model.half_distance_km)
        self._accepts = (rng.random(len(p)) < p).tolist()
        delays = model.median_s * np.exp(model.sigma * rng.standard_normal(len(p)))
        self._delays = delays.tolist()
        self._silent = (rng.random(len(p)) < model.silent_share).tolist()
        self.by_eta = {role: [] for role, _ in playbook.roles}
        self.by_distance = {role: [] for role, _ in playbook.roles}
        self.reach(playbook.first_radius_m)
        timeout_s = playbook.offer_timeout_s
        self.floor_people = len(self.eligible)
        self.floor_accepts = sum(
            answer.after(timeout_s)[0] == "accept" for answer in self.answers.values()
        )

    def reach(self, radius_m: int) -> bool:
        """Take in the candidates up to `radius_m`; whether anyone new came in."""
        if radius_m <= self.radius_m:
            return False
        self.radius_m = radius_m
        end = int(np.searchsorted(self._pool_m, radius_m * RADIUS_MARGIN, side="right"))
        before = len(self.eligible)
        for k in range(self._reached, end):
            candidate = self.world.candidate(int(self._pool[k]))
            roles = roles_for(
                candidate,
                playbook=self.incident.playbook,
                roles=self.playbooks.roles,
                now=self.incident.now,
                incident_id=self.incident.incident_id,
                rules=RULES,
            )
            if roles:
                self.eligible.append(candidate)
                self.roles_of[candidate.volunteer_id] = roles
                self.answers[candidate.volunteer_id] = Answer(
                    self._accepts[k], self._delays[k], not self._accepts[k] and self._silent[k]
                )
        self._reached = end
        if len(self.eligible) == before:
            return False
        ranked = rank(
            self.eligible,
            incident_lon=self.incident.lon,
            incident_lat=self.incident.lat,
            router=ROUTER,
            model=MODEL,
            now=self.incident.now,
            is_urgent=self.incident.playbook.urgent,
        )
        self.everyone_by_distance = sorted(ranked, key=lambda r: (r.distance_m, r.volunteer_id.int))
        for lists, order in ((self.by_eta, ranked), (self.by_distance, self.everyone_by_distance)):
            for role in lists:
                lists[role] = []
            for r in order:
                for role in self.roles_of[r.volunteer_id]:
                    lists[role].append(r)
        return True


@dataclass
class Outcome:
    complete_s: float | None = None
    on_scene_s: float | None = None
    offers: int = 0
    filled: int = 0
    too_late: int = 0
    stood_down: int = 0
    warned_s: float | None = None
    offered: list[tuple[UUID, float]] = field(default_factory=list)
    """Who was asked and when (seconds from the start)."""
    members: list[tuple[UUID, float]] = field(default_factory=list)
    """Who took a place and when they arrive."""


@dataclass
class Run:
    """One policy on one incident: the clock, the offers out, the places filled."""

    scene: Scene
    needed: dict[Role, int]
    accepted: dict[Role, int] = field(default_factory=dict)
    outstanding: dict[UUID, tuple[Role | None, Ranked, float]] = field(default_factory=dict)
    """Per volunteer asked and not answered yet: the role, the candidate, when they were asked."""
    could_fill: dict[Role, int] = field(default_factory=dict)
    """Per role, how many people with an offer out could take it."""
    events: list[tuple[float, int, str, UUID | None]] = field(default_factory=list)
    outcome: Outcome = field(default_factory=Outcome)
    t: float = 0.0
    _seq: Iterator[int] = field(default_factory=itertools.count)

    def open_places(self, role: Role) -> int:
        return self.needed[role] - self.accepted.get(role, 0)

    def is_complete(self) -> bool:
        return all(self.open_places(role) <= 0 for role in self.needed)

    def offer(self, ranked: Ranked, role: Role | None) -> None:
        volunteer_id = ranked.volunteer_id
        kind, after_s = self.scene.answers[volunteer_id].after(
            self.scene.incident.playbook.offer_timeout_s
        )
        self.outcome.offers += 1
        self.outcome.offered.append((volunteer_id, self.t))
        self.outstanding[volunteer_id] = (role, ranked, self.t)
        for could in self.scene.roles_of[volunteer_id]:
            self.could_fill[could] = self.could_fill.get(could, 0) + 1
        self.schedule(self.t + after_s, kind, volunteer_id)

    def schedule(self, at_s: float, kind: str, volunteer_id: UUID | None = None) -> None:
        heapq.heappush(self.events, (at_s, next(self._seq), kind, volunteer_id))

    def play(self, policy: Policy) -> Outcome:
        policy.start(self)
        while self.events and not self.is_complete():
            self.t, _, kind, volunteer_id = heapq.heappop(self.events)
            if volunteer_id is None:
                policy.on_timer(self)
                continue
            if volunteer_id not in self.outstanding:
                continue  # stood down before they answered
            role, ranked, _ = self._close(volunteer_id)
            if kind == "accept":
                self._fill(policy.role_on_accept(self, volunteer_id, role), ranked, policy)
            if not self.is_complete():
                policy.react(self, accepted=kind == "accept")
        return self.outcome

    def _close(self, volunteer_id: UUID) -> tuple[Role | None, Ranked, float]:
        closed = self.outstanding.pop(volunteer_id)
        for could in self.scene.roles_of[volunteer_id]:
            self.could_fill[could] -= 1
        return closed

    def _fill(self, role: Role | None, ranked: Ranked, policy: Policy) -> None:
        if role is None or self.open_places(role) <= 0:
            self.outcome.too_late += 1
            return
        self.accepted[role] = self.accepted.get(role, 0) + 1
        self.outcome.filled += 1
        self.outcome.members.append((ranked.volunteer_id, self.t + ranked.eta_s))
        if self.is_complete():
            self.outcome.complete_s = self.t
            self.outcome.on_scene_s = max(at for _, at in self.outcome.members)
            self.outcome.stood_down += len(self.outstanding)
        elif policy.stands_down_filled_roles and self.open_places(role) == 0:
            for volunteer_id in [v for v, (r, _, _) in self.outstanding.items() if r is role]:
                self._close(volunteer_id)
                self.outcome.stood_down += 1


class Policy:
    stands_down_filled_roles = True
    """Withdraw a role's outstanding offers once it is full (offers made for a role)."""

    def start(self, run: Run) -> None:
        raise NotImplementedError

    def react(self, run: Run, *, accepted: bool = False) -> None:
        """An offer was answered or lapsed."""
        raise NotImplementedError

    def on_timer(self, run: Run) -> None:
        """A timer the policy set has fired."""

    def role_on_accept(self, run: Run, volunteer_id: UUID, role: Role | None) -> Role | None:
        return role


class Jedel(Policy):
    """`decide_wave` over the scene: this adapter only feeds it and carries out what it says."""

    def start(self, run: Run) -> None:
        self.scene = run.scene
        self.playbook = run.scene.incident.playbook
        self.asked: dict[Role, set[UUID]] = {role: set() for role in run.needed}
        self.everyone: set[UUID] = set()
        self.wave = 0
        self.sent = 0
        self.budget = self.playbook.offer_budget()
        self.radius = self.playbook.first_radius_m
        self.replan_s: int | None = None
        self._load(next_radius(self.radius, self.playbook) or self.radius)
        self.react(run)
        if self.replan_s is not None:
            run.schedule(self.replan_s, "timer")

    def react(self, run: Run, *, accepted: bool = False) -> None:
        while True:
            decision = decide_wave(
                Situation(
                    progress=self._progress(run),
                    candidates=self._window(),
                    radius_m=self.radius,
                    elapsed_s=run.t,
                    budget=self.budget,
                    offers_sent=self.sent,
                    waves_sent=self.wave,
                ),
                playbook=self.playbook,
                response=RESPONSE,
            )
            further = next_radius(self.loaded, self.playbook)
            if decision.radius_m < self.loaded or further is None:
                break
            self._load(further)  # it widened to the edge of what it was shown: show it more
        self.radius, self.wave, self.replan_s = (
            decision.radius_m,
            decision.wave,
            decision.replan_in_s,
        )
        for offer in decision.offers:
            self.asked[offer.role].add(offer.volunteer_id)
            self.everyone.add(offer.volunteer_id)
            run.offer(self.lookup[offer.role][offer.volunteer_id], offer.role)
        self.sent += len(decision.offers)
        if decision.missing and run.outcome.warned_s is None:
            run.outcome.warned_s = run.t

    def on_timer(self, run: Run) -> None:
        self.react(run)
        if self.replan_s is not None and run.t < MAX_SIMULATED_S:
            run.schedule(run.t + self.replan_s, "timer")

    def _load(self, radius_m: int) -> None:
        self.loaded = radius_m
        scene = self.scene
        scene.reach(radius_m)
        codes = {scene.incident.region_code}
        self.in_reach = {
            role: group_first(within(ranked, radius_m), role, region_codes=codes)
            for role, ranked in scene.by_eta.items()
        }
        self.lookup = {
            role: {r.volunteer_id: r for r in ranked} for role, ranked in self.in_reach.items()
        }
        self.cursor = dict.fromkeys(self.in_reach, 0)

    def _window(self) -> dict[Role, list[Ranked]]:
        """Each role's next `WINDOW` candidates loaded, from the first not yet asked."""
        window = {}
        for role, ranked in self.in_reach.items():
            start = self.cursor[role]
            while start < len(ranked) and ranked[start].volunteer_id in self.everyone:
                start += 1
            self.cursor[role] = start
            window[role] = ranked[start : start + WINDOW]
        return window

    def _progress(self, run: Run) -> dict[Role, RoleProgress]:
        pending: dict[Role, list[Outstanding]] = {role: [] for role in run.needed}
        for role, ranked, asked_at_s in run.outstanding.values():
            if role is not None:
                pending[role].append(Outstanding(ranked.p_accept, run.t - asked_at_s))
        everyone = frozenset(self.everyone)
        return {
            role: RoleProgress(
                role, needed, run.accepted.get(role, 0), tuple(pending[role]), everyone
            )
            for role, needed in run.needed.items()
        }


class Broadcast(Policy):
    stands_down_filled_roles = False  # its offers are for the group, not for a role

    def start(self, run: Run) -> None:
        self.playbook = run.scene.incident.playbook
        self.radius = self.playbook.first_radius_m
        self.notified: set[UUID] = set()
        self._notify(run)
        supply = {role: len(r) / run.needed[role] for role, r in run.scene.by_eta.items()}
        self.scarcest_first = sorted(run.needed, key=lambda role: supply[role])
        self.react(run)

    def role_on_accept(self, run: Run, volunteer_id: UUID, role: Role | None) -> Role | None:
        theirs = run.scene.roles_of[volunteer_id]
        return next(
            (r for r in self.scarcest_first if r in theirs and run.open_places(r) > 0), None
        )

    def cannot_fill(self, run: Run) -> bool:
        """Whether the offers still out could no longer fill some role."""
        return any(0 < run.open_places(r) > run.could_fill.get(r, 0) for r in run.needed)

    def react(self, run: Run, *, accepted: bool = False) -> None:
        while self.cannot_fill(run):
            wider = next_radius(self.radius, self.playbook)
            if wider is None:
                return
            self.radius = wider
            self._notify(run)

    def _notify(self, run: Run) -> None:
        run.scene.reach(self.radius)
        for ranked in run.scene.everyone_by_distance:
            if ranked.distance_m > self.radius:
                break
            if ranked.volunteer_id not in self.notified:
                self.notified.add(ranked.volunteer_id)
                run.offer(ranked, None)


class Anchor(Broadcast):
    """An anchor-sized broadcast: the `ANCHOR_BATCH` nearest within `ANCHOR_FIRST_M`, the radius
    doubled until that many are found, the next batch once the offers out cannot fill the group."""

    def start(self, run: Run) -> None:
        self.playbook = run.scene.incident.playbook
        self.radius = min(ANCHOR_FIRST_M, self.playbook.max_radius_m)
        self.notified = set()
        run.scene.reach(self.playbook.first_radius_m)
        supply = {role: len(r) / run.needed[role] for role, r in run.scene.by_eta.items()}
        self.scarcest_first = sorted(run.needed, key=lambda role: supply[role])
        self._batch(run)
        self.react(run)

    def react(self, run: Run, *, accepted: bool = False) -> None:
        while self.cannot_fill(run) and self._batch(run):
            pass

    def _batch(self, run: Run) -> bool:
        """Ask the next batch, widening while fewer are left in the radius; whether anyone was."""
        while True:
            run.scene.reach(self.radius)
            fresh = [
                r
                for r in run.scene.everyone_by_distance
                if r.distance_m <= self.radius and r.volunteer_id not in self.notified
            ][:ANCHOR_BATCH]
            wider = min(self.radius * 2, self.playbook.max_radius_m)
            if len(fresh) == ANCHOR_BATCH or wider <= self.radius:
                break
            self.radius = wider
        for ranked in fresh:
            self.notified.add(ranked.volunteer_id)
            run.offer(ranked, None)
        return bool(fresh)


class Nearest(Policy):
    """Nearest first with a fixed number of offers out: per role, or per open place."""

    def __init__(self, *, per_role: int = 0, per_open_place: int = 0) -> None:
        self.per_role, self.per_open_place = per_role, per_open_place

    def start(self, run: Run) -> None:
        self.playbook = run.scene.incident.playbook
        self.radius = self.playbook.first_radius_m
        run.scene.reach(self.radius)
        self.asked: set[UUID] = set()
        self.cursor = dict.fromkeys(run.needed, 0)
        self.react(run)

    def wanted(self, run: Run, role: Role) -> int:
        open_places = run.open_places(role)
        return 0 if open_places <= 0 else self.per_role or self.per_open_place * open_places

    def react(self, run: Run, *, accepted: bool = False) -> None:
        out = dict.fromkeys(run.needed, 0)
        for role, _, _ in run.outstanding.values():
            if role is not None:
                out[role] += 1
        while True:
            short = False
            for role in run.needed:
                while out[role] < self.wanted(run, role):
                    ranked = self._next(run, role)
                    if ranked is None:
                        short = True
                        break
                    self.asked.add(ranked.volunteer_id)
                    run.offer(ranked, role)
                    out[role] += 1
            wider = next_radius(self.radius, self.playbook) if short else None
            if wider is None:
                return
            self.radius = wider
            if run.scene.reach(wider):
                self.cursor = dict.fromkeys(run.needed, 0)

    def _next(self, run: Run, role: Role) -> Ranked | None:
        ranked, index = run.scene.by_distance[role], self.cursor[role]
        while index < len(ranked) and ranked[index].distance_m <= self.radius:
            if ranked[index].volunteer_id not in self.asked:
                self.cursor[role] = index
                return ranked[index]
            index += 1
        self.cursor[role] = index
        return None


POLICIES: dict[str, Callable[[], Policy]] = {
    "jedel": Jedel,
    "broadcast": Broadcast,
    "anchor-30": Anchor,
    "sequential": lambda: Nearest(per_role=1),
    "nearest-3": lambda: Nearest(per_open_place=3),
}


RULES = FatigueRules()
ROUTER = GeodesicRouter()
MODEL = AcceptanceModel(night_factor=NIGHT_FACTOR)
RESPONSE = ResponseModel()  # what Jedel assumes, whatever the simulated answers
CERTIFICATION_BITS = {kind: 1 << bit for bit, kind in enumerate(CertificationType)}
EARTH_RADIUS_M = 6_371_008.8


@dataclass
class World:
    candidates: list[Candidate]
    lon: np.ndarray
    lat: np.ndarray
    p_true: np.ndarray
    certified: np.ndarray
    """Bit mask of the certificate types each volunteer holds, valid or not."""
    available: np.ndarray
    as_of: Callable[[Candidate], Candidate] | None = None
    """How a volunteer stands now (the month's offers, call-outs, deployments); None: as drawn."""

    def candidate(self, index: int) -> Candidate:
        candidate = self.candidates[index]
        return candidate if self.as_of is None else self.as_of(candidate)


def build_world(population: int, *, seed: int) -> World:
    settlements, regions = load_settlements(), load_regions()
    drafts = list(
        generate_volunteers(
            population, settlements=settlements, regions=regions, today=TODAY, seed=seed
        )
    )
    seats = {
        member.volunteer_id: member
        for group in plan_mobile_groups(drafts, regions=regions, today=TODAY, seed=seed)
        for member in group.members
    }
    rng = np.random.default_rng([seed, 1])
    n = len(drafts)
    p_true = rng.beta(*ACCEPT_BETA, n)
    offers = rng.poisson(HISTORY_OFFERS_MEAN, n)
    accepts = rng.binomial(offers, p_true)
    week = rng.poisson(0.4, n)
    day = rng.binomial(week, 1 / 7)
    candidates = [
        _candidate(
            draft, seat=seats.get(draft.id), history=(int(o), int(a)), fatigue=(int(d), int(w))
        )
        for draft, o, a, d, w in zip(
            drafts, offers.tolist(), accepts.tolist(), day.tolist(), week.tolist(), strict=True
        )
    ]
    return World(
        candidates=candidates,
        lon=np.array([d.home_lon for d in drafts]),
        lat=np.array([d.home_lat for d in drafts]),
        p_true=p_true,
        certified=np.array(
            [sum({CERTIFICATION_BITS[c.type] for c in d.certifications}) for d in drafts]
        ),
        available=np.array([d.availability is Availability.AVAILABLE for d in drafts]),
    )


def _candidate(
    draft: VolunteerDraft,
    *,
    seat: MemberDraft | None,
    history: tuple[int, int],
    fatigue: tuple[int, int],
) -> Candidate:
    return Candidate(
        volunteer_id=draft.id,
        birth_date=draft.birth_date,
        availability=draft.availability,
        transport_mode=draft.transport_mode,
        home_lon=draft.home_lon,
        home_lat=draft.home_lat,
        region_code=draft.region_code,
        phone=draft.phone,
        languages=draft.languages,
        quiet_hours_start=draft.quiet_hours_start,
        quiet_hours_end=draft.quiet_hours_end,
        certificates=tuple(
            Certificate(c.type, c.issued_on, c.expires_on) for c in draft.certifications
        ),
        group_role=seat.role if seat else None,
        on_call=seat.on_call if seat else False,
        offers_total=history[0],
        accepts_total=history[1],
        callouts_24h=fatigue[0],
        callouts_7d=fatigue[1],
    )


def draw_incidents(count: int, playbooks: Playbooks, *, seed: int) -> list[Incident]:
    """Alternately urban and rural incidents, types and priorities mixed, at any hour."""
    rng = np.random.default_rng([seed, 2])
    settlements = load_settlements()
    urban = [s for s in settlements if s.population >= URBAN_POPULATION]
    rural = [s for s in settlements if s.population < URBAN_POPULATION]
    weights = np.array([s.population for s in urban], dtype=float)
    types, priorities = list(TYPE_WEIGHTS), list(PRIORITY_WEIGHTS)
    midnight = datetime.combine(TODAY, time(0), tzinfo=KAZAKHSTAN_TZ)
    incidents = []
    for index in range(count):
        is_urban = index % 2 == 0
        place: Settlement = (
            urban[rng.choice(len(urban), p=weights / weights.sum())]
            if is_urban
            else rural[rng.integers(len(rural))]
        )
        lon, lat = _near(place, rng, urban=is_urban)
        incident_type = types[rng.choice(len(types), p=list(TYPE_WEIGHTS.values()))]
        priority = priorities[rng.choice(len(priorities), p=list(PRIORITY_WEIGHTS.values()))]
        incidents.append(
            Incident(
                incident_id=UUID(int=index + 1, version=4),
                playbook=playbooks.for_incident(incident_type, priority),
                lon=lon,
                lat=lat,
                region_code=place.region_code,
                urban=is_urban,
                now=midnight + timedelta(minutes=int(rng.integers(24 * 60))),
            )
        )
    return incidents


def _near(place: Settlement, rng: np.random.Generator, *, urban: bool) -> tuple[float, float]:
    """A point within 3 km of a town's centre or 10 km of a village's, uniform over the disc."""
    spread_km = (3.0 if urban else 10.0) * math.sqrt(rng.random())
    bearing = rng.random() * 2 * math.pi
    lat = place.latitude + spread_km * math.cos(bearing) / 110.574
    lon = place.longitude + spread_km * math.sin(bearing) / (111.320 * math.cos(math.radians(lat)))
    return lon, lat


def _haversine_m(lon: np.ndarray, lat: np.ndarray, to_lon: float, to_lat: float) -> np.ndarray:
    phi1, phi2 = np.radians(lat), math.radians(to_lat)
    dphi, dlmb = phi2 - phi1, np.radians(to_lon - lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * math.cos(phi2) * np.sin(dlmb / 2) ** 2
    distance: np.ndarray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))
    return distance


@dataclass
class Summary:
    name: str
    on_scene_s: float
    on_scene_p99_s: float
    last_accept_s: float
    never: int
    by_deadline: float
    in_time: float
    """Complete by the deadline with every member there by the arrival cut-off (deadline +
    `arrival_allowance_s`): a group that can do the work, not one arriving hours later."""
    offers: int
    offers_per_place: float
    too_late: int
    stood_down: int


def summarise(name: str, results: Sequence[tuple[Incident, Outcome]]) -> Summary:
    on_scene = sorted(_inf(o.on_scene_s) for _, o in results)
    on_time = [_on_time(i, o) for i, o in results]
    offers = sum(o.offers for _, o in results)
    return Summary(
        name=name,
        on_scene_s=statistics.median(on_scene),
        on_scene_p99_s=on_scene[min(len(on_scene) - 1, math.ceil(0.99 * len(on_scene)) - 1)],
        last_accept_s=statistics.median(_inf(o.complete_s) for _, o in results),
        never=sum(o.complete_s is None for _, o in results),
        by_deadline=sum(on_time) / len(on_time),
        in_time=sum(_in_time(i, o) for i, o in results) / len(results),
        offers=offers,
        offers_per_place=offers / max(1, sum(o.filled for _, o in results)),
        too_late=sum(o.too_late for _, o in results),
        stood_down=sum(o.stood_down for _, o in results),
    )


def _inf(seconds: float | None) -> float:
    return math.inf if seconds is None else seconds


def _on_time(incident: Incident, outcome: Outcome) -> bool:
    return outcome.complete_s is not None and outcome.complete_s <= incident.playbook.deadline_s


def _in_time(incident: Incident, outcome: Outcome) -> bool:
    book = incident.playbook
    return (
        _on_time(incident, outcome)
        and outcome.on_scene_s is not None
        and outcome.on_scene_s <= book.deadline_s + book.arrival_allowance_s
    )


def _clock(seconds: float) -> str:
    if math.isinf(seconds):
        return "never"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


@dataclass
class ModelResult:
    model: AnswerModel
    summaries: dict[str, Summary]
    floor: float
    """1/p: offers per filled place if every offer had the population's mean chance."""
    results: dict[str, list[tuple[Incident, Outcome]]]


def compare(
    world: World, drawn: Sequence[Incident], playbooks: Playbooks, *, seed: int, model: AnswerModel
) -> ModelResult:
    results: dict[str, list[tuple[Incident, Outcome]]] = {name: [] for name in POLICIES}
    people = accepts = 0
    for incident in drawn:
        scene = Scene(world, incident, playbooks, seed, model)
        people, accepts = people + scene.floor_people, accepts + scene.floor_accepts
        for name, policy in POLICIES.items():
            run = Run(scene, needed=incident.playbook.needed())
            results[name].append((incident, run.play(policy())))
    return ModelResult(
        model=model,
        summaries={name: summarise(name, r) for name, r in results.items()},
        floor=people / max(1, accepts),
        results=results,
    )


def print_table(result: ModelResult) -> None:
    print(f"\nanswers: {result.model.name}; 1/p floor {result.floor:.1f} offers per filled place")
    print(
        f"{'policy':<11} {'on scene':>9} {'p99':>7} {'last yes':>9} {'never':>6} "
        f"{'by deadline':>12} {'in time':>8} {'offers':>8} {'per place':>10} {'too late':>9} "
        f"{'stood down':>11}"
    )
    for s in result.summaries.values():
        print(
            f"{s.name:<11} {_clock(s.on_scene_s):>9} {_clock(s.on_scene_p99_s):>7} "
            f"{_clock(s.last_accept_s):>9} {s.never:>6} {s.by_deadline:>12.1%} "
            f"{s.in_time:>8.1%} {s.offers:>8,} "
            f"{s.offers_per_place:>10.1f} {s.too_late:>9,} {s.stood_down:>11,}"
        )
    for urgent, label in ((True, "urgent (critical, high)"), (False, "not urgent (medium, low)")):
        medians = {
            name: _clock(
                statistics.median(_inf(o.on_scene_s) for i, o in r if i.playbook.urgent is urgent)
            )
            for name, r in result.results.items()
            if name in ("jedel", "broadcast", "anchor-30")
        }
        print(
            f"median to the whole group on scene, {label}: "
            + ", ".join(f"{n} {t}" for n, t in medians.items())
        )
    jedel, broadcast = result.summaries["jedel"], result.summaries["broadcast"]
    print(
        f"jedel against broadcast: on scene {_ratio(jedel.on_scene_s, broadcast.on_scene_s)}, "
        f"last acceptance {_ratio(jedel.last_accept_s, broadcast.last_accept_s)} "
        f"({_clock(jedel.last_accept_s - broadcast.last_accept_s)} later), "
        f"{jedel.offers_per_place / result.floor:.2f}× the floor in offers per place, "
        f"complete by the deadline {100 * (jedel.by_deadline - broadcast.by_deadline):+.1f} "
        f"points, and in time {100 * (jedel.in_time - broadcast.in_time):+.1f} points"
    )
    _report_warnings(result.results["jedel"])


def _ratio(a: float, b: float) -> str:
    if math.isinf(b):
        return "-"
    return f"{a / b:.2f}×"


def _report_warnings(jedel: Sequence[tuple[Incident, Outcome]]) -> None:
    late = [(i, o) for i, o in jedel if not _on_time(i, o)]
    ahead_s = [
        i.playbook.deadline_s - o.warned_s
        for i, o in late
        if o.warned_s is not None and o.warned_s < i.playbook.deadline_s
    ]
    false_alarms = sum(1 for i, o in jedel if o.warned_s is not None and _on_time(i, o))
    median_ahead = _clock(statistics.median(ahead_s)) if ahead_s else "-"
    print(
        f"jedel GroupUnderstaffed: {len(ahead_s)} of the {len(late)} groups late or never "
        f"complete were warned before the deadline (median {median_ahead} ahead); "
        f"{false_alarms} warnings for groups complete in time"
    )


@dataclass
class Month:
    incidents: int
    complete_by_deadline: float
    offered_people: int
    eligible_people: int
    offers_p50: float
    offers_p99: float
    offers_max: int
    busiest: int
    """Offers received by the most-asked volunteer within any 7 days."""


def simulate_month(
    world: World, playbooks: Playbooks, *, seed: int, per_region_per_day: float
) -> Month:
    """A month of incidents arriving per region; Jedel alone, its fatigue limits applied to the
    offers and call-outs each volunteer has had, deployed volunteers busy until they are free."""
    drawn = draw_month(playbooks, seed=seed, per_region_per_day=per_region_per_day)
    start = drawn[0].now if drawn else datetime.combine(TODAY, time(0), tzinfo=KAZAKHSTAN_TZ)
    offered: dict[UUID, list[float]] = {}
    accepted: dict[UUID, list[float]] = {}
    busy: dict[UUID, tuple[float, UUID]] = {}
    complete = 0
    try:
        for incident in drawn:
            t0 = (incident.now - start).total_seconds()

            def as_of(candidate: Candidate, t: float = t0) -> Candidate:
                volunteer_id = candidate.volunteer_id
                if volunteer_id not in offered and volunteer_id not in busy:
                    return candidate
                return _as_of(
                    candidate,
                    t,
                    offered=offered.get(volunteer_id, ()),
                    accepted=accepted.get(volunteer_id, ()),
                    busy=busy.get(volunteer_id),
                )

            world.as_of = as_of
            scene = Scene(world, incident, playbooks, seed, ANSWER_MODELS[0])
            outcome = Run(scene, needed=incident.playbook.needed()).play(Jedel())
            complete += _on_time(incident, outcome)
            for volunteer_id, at_s in outcome.offered:
                offered.setdefault(volunteer_id, []).append(t0 + at_s)
            for volunteer_id, arrives_s in outcome.members:
                accepted.setdefault(volunteer_id, []).append(t0)
                busy[volunteer_id] = (t0 + arrives_s + DEPLOYMENT_H * 3600, incident.incident_id)
    finally:
        world.as_of = None
    counts = sorted(len(times) for times in offered.values())
    eligible = int(np.count_nonzero(world.available))
    return Month(
        incidents=len(drawn),
        complete_by_deadline=complete / max(1, len(drawn)),
        offered_people=len(counts),
        eligible_people=eligible,
        offers_p50=float(np.percentile(counts, 50)) if counts else 0.0,
        offers_p99=float(np.percentile(counts, 99)) if counts else 0.0,
        offers_max=counts[-1] if counts else 0,
        busiest=max((_most_in_a_week(times) for times in offered.values()), default=0),
    )


def _as_of(
    candidate: Candidate,
    t: float,
    *,
    offered: Sequence[float],
    accepted: Sequence[float],
    busy: tuple[float, UUID] | None,
) -> Candidate:
    def since(times: Sequence[float], seconds: float) -> int:
        return sum(1 for at in times if t - seconds < at <= t)

    day, week = 86_400.0, 7 * 86_400.0
    return dataclasses.replace(
        candidate,
        offers_24h=since(offered, day),
        offers_7d=since(offered, week),
        callouts_24h=candidate.callouts_24h + since(accepted, day),
        callouts_7d=candidate.callouts_7d + since(accepted, week),
        committed_incident_id=busy[1] if busy is not None and busy[0] > t else None,
        offers_total=candidate.offers_total + len(offered),
    )


def _most_in_a_week(times: Sequence[float]) -> int:
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= 7 * 86_400:
            first += 1
        most = max(most, last - first + 1)
    return most


def draw_month(playbooks: Playbooks, *, seed: int, per_region_per_day: float) -> list[Incident]:
    """Incidents arriving as a Poisson process per region over `MONTH_DAYS`, each at a settlement
    of its region weighted by population, in time order."""
    rng = np.random.default_rng([seed, 5])
    settlements = load_settlements()
    start = datetime.combine(TODAY, time(0), tzinfo=KAZAKHSTAN_TZ)
    types, priorities = list(TYPE_WEIGHTS), list(PRIORITY_WEIGHTS)
    drawn: list[Incident] = []
    for region in load_regions():
        places = [s for s in settlements if s.region_code == region.code]
        if not places:
            continue
        weights = np.array([max(1, s.population) for s in places], dtype=float)
        for _ in range(int(rng.poisson(per_region_per_day * MONTH_DAYS))):
            place = places[rng.choice(len(places), p=weights / weights.sum())]
            incident_type = types[rng.choice(len(types), p=list(TYPE_WEIGHTS.values()))]
            priority = priorities[rng.choice(len(priorities), p=list(PRIORITY_WEIGHTS.values()))]
            lon, lat = _near(place, rng, urban=place.population >= URBAN_POPULATION)
            drawn.append(
                Incident(
                    incident_id=UUID(int=10_000_000 + len(drawn), version=4),
                    playbook=playbooks.for_incident(incident_type, priority),
                    lon=lon,
                    lat=lat,
                    region_code=place.region_code,
                    urban=place.population >= URBAN_POPULATION,
                    now=start + timedelta(seconds=float(rng.random()) * MONTH_DAYS * 86_400),
                )
            )
    return sorted(drawn, key=lambda incident: incident.now)


def report(results: Sequence[ModelResult], months: Sequence[tuple[float, Month]]) -> bool:
    for result in results:
        print_table(result)
    print()
    for rate, month in months:
        print(
            f"month at {rate:.2f} incidents a day per region: {month.incidents} incidents, "
            f"{month.complete_by_deadline:.1%} complete by the deadline; "
            f"{month.offered_people:,} of {month.eligible_people:,} available volunteers asked "
            f"at least once; offers per volunteer asked p50 {month.offers_p50:g}, "
            f"p99 {month.offers_p99:g}, most {month.offers_max} (at most {month.busiest} in any "
            f"7 days)"
        )
    print(assumptions().rstrip())
    default = results[0]
    month = months[0][1]
    jedel, broadcast = default.summaries["jedel"], default.summaries["broadcast"]
    on_scene = jedel.on_scene_s / broadcast.on_scene_s
    floor_multiple = jedel.offers_per_place / default.floor
    # Broadcast completes groups by the deadline with people who arrive many hours later, whom
    # Jedel never asks (the arrival cut-off); groups count when they can do the work in time.
    behind = broadcast.in_time - jedel.in_time
    missed = [
        text
        for text, ok in (
            (f"on scene {on_scene:.2f}× > {AIM_ON_SCENE_RATIO}×", on_scene <= AIM_ON_SCENE_RATIO),
            (
                f"{floor_multiple:.2f}× the floor > {AIM_FLOOR_MULTIPLE}×",
                floor_multiple <= AIM_FLOOR_MULTIPLE,
            ),
            (
                f"{100 * behind:.1f} points behind broadcast complete in time",
                behind <= AIM_DEADLINE_POINTS,
            ),
            (
                f"p99 {month.offers_p99:g} offers a month > {AIM_MONTH_P99}",
                month.offers_p99 <= AIM_MONTH_P99,
            ),
        )
        if not ok
    ]
    verdict = "OK" if not missed else "MISSED: " + "; ".join(missed)
    print(
        f"policies: Jedel has the group on scene in {on_scene:.2f}× broadcast's median time with "
        f"{jedel.offers_per_place:.1f} offers per filled place ({floor_multiple:.2f}× the 1/p "
        f"floor of {default.floor:.1f}); complete in time {100 * -behind:+.1f} points against "
        f"broadcast (by the deadline whatever the arrival "
        f"{100 * (jedel.by_deadline - broadcast.by_deadline):+.1f}); p99 {month.offers_p99:g} "
        f"offers per volunteer a month (aims ≤{AIM_ON_SCENE_RATIO}×, ≤{AIM_FLOOR_MULTIPLE}×, "
        f"≥-{100 * AIM_DEADLINE_POINTS:g} points, ≤{AIM_MONTH_P99}): {verdict}"
    )
    return not missed


def main(
    *, population: int, incidents: int, seed: int, per_region_per_day: float, stress: bool
) -> int:
    started = perf_counter()
    playbooks = load_playbooks()
    world = build_world(population, seed=seed)
    drawn = draw_incidents(incidents, playbooks, seed=seed)
    built = perf_counter()
    # The aims are on Jedel's own answer model; the others (no aims) run on half the incidents.
    results = [
        compare(world, drawn if k == 0 else drawn[::2], playbooks, seed=seed, model=model)
        for k, model in enumerate(ANSWER_MODELS)
    ]
    rates = (per_region_per_day, *((REGISTERED_PER_REGION_PER_DAY,) if stress else ()))
    months = [
        (rate, simulate_month(world, playbooks, seed=seed, per_region_per_day=rate))
        for rate in rates
    ]
    urban = sum(i.urban for i in drawn)
    print(
        f"policies: {incidents} incidents ({urban} urban, {incidents - urban} rural) over "
        f"{population:,} synthetic volunteers, seed {seed}; population {built - started:.0f} s, "
        f"simulation {perf_counter() - built:.0f} s"
    )
    return 0 if report(results, months) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=200_000)
    parser.add_argument("--incidents", type=int, default=240)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--per-region-per-day",
        type=float,
        default=REGISTERED_PER_REGION_PER_DAY * MOBILISED_SHARE,
        help="incidents a day per region in the month simulated",
    )
    parser.add_argument(
        "--stress",
        action="store_true",
        help="also simulate a month at every registered emergency (10× the rate; ~5 min more)",
    )
    args = parser.parse_args()
    sys.exit(
        main(
            population=args.population,
            incidents=args.incidents,
            seed=args.seed,
            per_region_per_day=args.per_region_per_day,
            stress=args.stress,
        )
    )
