"""Which way of calling volunteers out fills a group fastest for the fewest offers?

A seeded discrete-event simulation over a synthetic population (`generate_volunteers`, with the
standing groups of `plan_mobile_groups`) and incidents at real settlements, using the real
playbooks, eligibility and router. Four policies face the same volunteers, who give each policy the
same answer (common random numbers):
  jedel      — waves (`waves.plan_wave`): the standing group first, ranked by ETA then acceptance,
               enough offers for the group to be 90 % likely complete within the playbook's
               horizon, replanned after every answer and every 30 s of silence, the radius widened
               while a role is short of people;
  broadcast  — everyone eligible in the radius at once, first come first served; the radius widens
               when the offers still out can no longer fill a role;
  sequential — per role one offer at a time, nearest (straight line) first;
  nearest-3  — per role three offers out per open place, nearest first.
Aim: Jedel within 1.2× broadcast's median time to a complete group with at most 40 % of its offers;
exits 1 when missed.
Run: .venv/bin/python -m bench.policies [--population N] [--incidents N] [--seed N]
         [--answer-median-s S]
"""

from __future__ import annotations

import argparse
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
from services.mobilizer.ranking import AcceptanceModel, GeodesicRouter, Ranked, rank, within
from services.mobilizer.waves import (
    REPLAN_EVERY_S,
    Outstanding,
    RoleProgress,
    group_first,
    next_radius,
    plan_wave,
    understaffed,
)
from shared.events.incidents import IncidentType, Priority
from shared.events.volunteers import Availability, CertificationType, Role
from shared.reference import KAZAKHSTAN_TZ, Settlement, load_regions, load_settlements

TODAY = date(2026, 4, 2)
AIM_TIME_RATIO, AIM_OFFER_SHARE = 1.2, 0.40
URBAN_POPULATION = 50_000
NFPA_URBAN_S, NFPA_RURAL_S = 9 * 60, 14 * 60
ACCEPT_BETA = (2.5, 7.5)  # mean 0.25; 90 % of volunteers between 7 % and 49 %
HISTORY_OFFERS_MEAN = 6.0
DELAY_MEDIAN_S, DELAY_SIGMA = 90.0, 0.8
SILENT_SHARE = 0.5
NIGHT_FACTOR = 0.8
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
WINDOW = 250  # next candidates per role not yet asked passed to a wave: ≫ the cap of 60
RADIUS_MARGIN = 1.01  # haversine picks the pool, the router's geodesic decides the radius
NIGHT_END_HOUR = 6


def assumptions(answer_median_s: float) -> str:
    return f"""\
assumptions (sources):
  acceptance: each volunteer's own probability ~ Beta{ACCEPT_BETA} (mean 25 %, 90 % of people
    between 7 % and 49 %), ×{NIGHT_FACTOR} for non-urgent offers at 00–06; published responder-app
    acceptance runs from about 5 % to 47 % (issue #3; 17–47 % in the studies reviewed by
    Khalemsky et al. 2023, JMIR mHealth 11:e41551)
  history: past offers ~ Poisson({HISTORY_OFFERS_MEAN:g}), accepts ~ Binomial(offers, p); Jedel's
    estimate is the Beta(1, 3) posterior mean (ranking.AcceptanceModel) — it never sees p itself
  answers: delay ~ lognormal, median {answer_median_s:g} s, σ {DELAY_SIGMA} (an assumption; p90 ≈
    2.8× the median); {SILENT_SHARE:.0%} of those who do not accept never answer; an answer after
    the offer timeout counts as a timeout. Jedel's ResponseModel assumes median 90 s, σ 0.8, half
    silent: when the simulation uses the same, that is its best case (try --answer-median-s 180)
  travel: GeodesicRouter — geodesic × 1.3 (circuity 1.2–1.4, Ballou et al. 2002) at foot 2.3 m/s
    (Jonsson et al. 2020, Resuscitation 151:197), bicycle 4.5, car 13.9, off-road 11.1 m/s,
    +120 s to get ready (median turnout 1:45 min, Resuscitation 2025;110772); home positions
  on scene: the last member there, max(accept time + ETA); NFPA 1720 volunteer crews: urban
    (>1000 people/mi², here a settlement of ≥ {URBAN_POPULATION:,}) 9 min, rural 14 min
  incidents: independent, at settlements (half urban weighted by population, half rural), every
    volunteer free; places go first come, first served; jedel, sequential and nearest-3 stand a
    role's outstanding offers down when it fills, broadcast's offers are for the group, so its
    accepts after the places are gone are "too late"
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
    answer_median_s: float = DELAY_MEDIAN_S
    radius_m: int = 0
    eligible: list[Candidate] = field(default_factory=list)
    roles_of: dict[UUID, tuple[Role, ...]] = field(default_factory=dict)
    answers: dict[UUID, Answer] = field(default_factory=dict)
    by_eta: dict[Role, list[Ranked]] = field(default_factory=dict)
    by_distance: dict[Role, list[Ranked]] = field(default_factory=dict)
    everyone_by_distance: list[Ranked] = field(default_factory=list)

    def __post_init__(self) -> None:
        playbook, world = self.incident.playbook, self.world
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
        if not playbook.urgent and self.incident.now.hour < NIGHT_END_HOUR:
            p = p * NIGHT_FACTOR
        self._accepts = (rng.random(len(p)) < p).tolist()
        delays = self.answer_median_s * np.exp(DELAY_SIGMA * rng.standard_normal(len(p)))
        self._delays = delays.tolist()
        self._silent = (rng.random(len(p)) < SILENT_SHARE).tolist()
        self.by_eta = {role: [] for role, _ in playbook.roles}
        self.by_distance = {role: [] for role, _ in playbook.roles}

    def reach(self, radius_m: int) -> bool:
        """Take in the candidates up to `radius_m`; whether anyone new came in."""
        if radius_m <= self.radius_m:
            return False
        self.radius_m = radius_m
        end = int(np.searchsorted(self._pool_m, radius_m * RADIUS_MARGIN, side="right"))
        before = len(self.eligible)
        for k in range(self._reached, end):
            candidate = self.world.candidates[self._pool[k]]
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
    arrivals_s: list[float] = field(default_factory=list)
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
        self.arrivals_s.append(self.t + ranked.eta_s)
        if self.is_complete():
            self.outcome.complete_s = self.t
            self.outcome.on_scene_s = max(self.arrivals_s)
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
    def start(self, run: Run) -> None:
        self.playbook = run.scene.incident.playbook
        self.asked: dict[Role, set[UUID]] = {role: set() for role in run.needed}
        self.everyone: set[UUID] = set()
        self.wave = 0
        self._widen(run, self.playbook.first_radius_m)
        self.react(run)
        run.schedule(REPLAN_EVERY_S, "timer")

    def react(self, run: Run, *, accepted: bool = False) -> None:
        while True:
            plan = plan_wave(
                self._progress(run),
                self._next_candidates(),
                playbook=self.playbook,
                wave_number=self.wave + 1,
            )
            if plan.offers:
                self.wave += 1
                for offer in plan.offers:
                    self.asked[offer.role].add(offer.volunteer_id)
                    self.everyone.add(offer.volunteer_id)
                    run.offer(self.lookup[offer.role][offer.volunteer_id], offer.role)
            wider = next_radius(self.radius, self.playbook) if plan.short_roles else None
            if wider is None:
                return
            self._widen(run, wider)

    def on_timer(self, run: Run) -> None:
        self.react(run)
        self._check(run)
        if run.outstanding and run.t < MAX_SIMULATED_S:
            run.schedule(run.t + REPLAN_EVERY_S, "timer")

    def _widen(self, run: Run, radius_m: int) -> None:
        self.radius = radius_m
        scene = run.scene
        scene.reach(radius_m)
        codes = {scene.incident.region_code}
        self.in_radius = {
            role: group_first(within(ranked, radius_m), role, region_codes=codes)
            for role, ranked in scene.by_eta.items()
        }
        self.lookup = {
            role: {r.volunteer_id: r for r in ranked} for role, ranked in self.in_radius.items()
        }
        self.cursor = dict.fromkeys(self.in_radius, 0)

    def _next_candidates(self) -> dict[Role, list[Ranked]]:
        """Each role's next `WINDOW` candidates in the radius, from the first not yet asked."""
        window = {}
        for role, ranked in self.in_radius.items():
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
        return {
            role: RoleProgress(
                role,
                needed,
                run.accepted.get(role, 0),
                tuple(pending[role]),
                frozenset(self.asked[role]),
            )
            for role, needed in run.needed.items()
        }

    def _check(self, run: Run) -> None:
        if run.outcome.warned_s is not None or run.is_complete():
            return
        start = run.scene.incident.now
        if understaffed(
            self._progress(run),
            self._next_candidates(),
            now=start + timedelta(seconds=run.t),
            deadline_at=start + timedelta(seconds=self.playbook.deadline_s),
            offer_timeout_s=self.playbook.offer_timeout_s,
        ):
            run.outcome.warned_s = run.t


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

    def react(self, run: Run, *, accepted: bool = False) -> None:
        while any(0 < run.open_places(r) > run.could_fill.get(r, 0) for r in run.needed):
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
    "sequential": lambda: Nearest(per_role=1),
    "nearest-3": lambda: Nearest(per_open_place=3),
}
RULES = FatigueRules()
ROUTER = GeodesicRouter()
MODEL = AcceptanceModel(night_factor=NIGHT_FACTOR)
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
        spread_km = (3.0 if is_urban else 10.0) * math.sqrt(rng.random())
        bearing = rng.random() * 2 * math.pi
        lat = place.latitude + spread_km * math.cos(bearing) / 110.574
        lon = place.longitude + spread_km * math.sin(bearing) / (
            111.320 * math.cos(math.radians(lat))
        )
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


def _haversine_m(lon: np.ndarray, lat: np.ndarray, to_lon: float, to_lat: float) -> np.ndarray:
    phi1, phi2 = np.radians(lat), math.radians(to_lat)
    dphi, dlmb = phi2 - phi1, np.radians(to_lon - lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * math.cos(phi2) * np.sin(dlmb / 2) ** 2
    distance: np.ndarray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))
    return distance


@dataclass
class Summary:
    name: str
    median_s: float
    p99_s: float
    never: int
    by_deadline: float
    offers: int
    offers_per_place: float
    too_late: int
    stood_down: int
    nfpa_urban: float
    nfpa_rural: float


def summarise(name: str, results: Sequence[tuple[Incident, Outcome]]) -> Summary:
    times = sorted(_time_to_complete(o) for _, o in results)
    on_time = [_on_time(i, o) for i, o in results]

    def nfpa(urban: bool) -> float:
        limit = NFPA_URBAN_S if urban else NFPA_RURAL_S
        hits = [
            o.on_scene_s is not None and o.on_scene_s <= limit
            for i, o in results
            if i.urban is urban
        ]
        return sum(hits) / max(1, len(hits))

    offers = sum(o.offers for _, o in results)
    return Summary(
        name=name,
        median_s=statistics.median(times),
        p99_s=times[min(len(times) - 1, math.ceil(0.99 * len(times)) - 1)],
        never=sum(o.complete_s is None for _, o in results),
        by_deadline=sum(on_time) / len(on_time),
        offers=offers,
        offers_per_place=offers / max(1, sum(o.filled for _, o in results)),
        too_late=sum(o.too_late for _, o in results),
        stood_down=sum(o.stood_down for _, o in results),
        nfpa_urban=nfpa(True),
        nfpa_rural=nfpa(False),
    )


def _time_to_complete(outcome: Outcome) -> float:
    return outcome.complete_s if outcome.complete_s is not None else math.inf


def _on_time(incident: Incident, outcome: Outcome) -> bool:
    return outcome.complete_s is not None and outcome.complete_s <= incident.playbook.deadline_s


def _clock(seconds: float) -> str:
    if math.isinf(seconds):
        return "never"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def report(results: dict[str, list[tuple[Incident, Outcome]]], *, answer_median_s: float) -> bool:
    summaries = {name: summarise(name, r) for name, r in results.items()}
    print(
        f"{'policy':<11} {'median':>7} {'p99':>7} {'never':>6} {'by deadline':>12} {'offers':>8} "
        f"{'per place':>10} {'too late':>9} {'stood down':>11} {'NFPA urban':>11} {'rural':>6}"
    )
    for s in summaries.values():
        print(
            f"{s.name:<11} {_clock(s.median_s):>7} {_clock(s.p99_s):>7} {s.never:>6} "
            f"{s.by_deadline:>12.1%} {s.offers:>8,} {s.offers_per_place:>10.1f} "
            f"{s.too_late:>9,} {s.stood_down:>11,} {s.nfpa_urban:>11.1%} {s.nfpa_rural:>6.1%}"
        )
    for urgent, label in ((True, "urgent (critical, high)"), (False, "not urgent (medium, low)")):
        medians = {
            name: _clock(
                statistics.median(_time_to_complete(o) for i, o in r if i.playbook.urgent is urgent)
            )
            for name, r in results.items()
            if name in ("jedel", "broadcast")
        }
        print(
            f"median to a full group, {label}: " + ", ".join(f"{n} {t}" for n, t in medians.items())
        )
    _report_warnings(results["jedel"])
    print(assumptions(answer_median_s).rstrip())
    jedel_s, broadcast_s = summaries["jedel"], summaries["broadcast"]
    time_ratio = jedel_s.median_s / broadcast_s.median_s
    offer_share = jedel_s.offers / broadcast_s.offers
    ok = time_ratio <= AIM_TIME_RATIO and offer_share <= AIM_OFFER_SHARE
    verdict = "OK" if ok else "MISSED — the aim is not met"
    print(
        f"policies: Jedel completes in {time_ratio:.2f}× broadcast's median time with "
        f"{offer_share:.0%} of its offers (aim ≤{AIM_TIME_RATIO}×, ≤{AIM_OFFER_SHARE:.0%}): {verdict}"
    )
    return ok


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


def main(*, population: int, incidents: int, seed: int, answer_median_s: float) -> int:
    started = perf_counter()
    playbooks = load_playbooks()
    world = build_world(population, seed=seed)
    drawn = draw_incidents(incidents, playbooks, seed=seed)
    built = perf_counter()
    results: dict[str, list[tuple[Incident, Outcome]]] = {name: [] for name in POLICIES}
    for incident in drawn:
        scene = Scene(world, incident, playbooks, seed, answer_median_s)
        for name, policy in POLICIES.items():
            run = Run(scene, needed=incident.playbook.needed())
            results[name].append((incident, run.play(policy())))
    urban = sum(i.urban for i in drawn)
    print(
        f"policies: {incidents} incidents ({urban} urban, {incidents - urban} rural) over "
        f"{population:,} synthetic volunteers, seed {seed}; population {built - started:.0f} s, "
        f"simulation {perf_counter() - built:.0f} s"
    )
    return 0 if report(results, answer_median_s=answer_median_s) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=200_000)
    parser.add_argument("--incidents", type=int, default=240)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--answer-median-s",
        type=float,
        default=DELAY_MEDIAN_S,
        help="simulated volunteers' median answer delay (Jedel keeps assuming 90 s)",
    )
    args = parser.parse_args()
    sys.exit(
        main(
            population=args.population,
            incidents=args.incidents,
            seed=args.seed,
            answer_median_s=args.answer_median_s,
        )
    )
