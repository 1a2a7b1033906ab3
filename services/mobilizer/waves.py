"""The wave decision: whom to ask, how many at once, when to widen, when to warn — one pure function.

`decide_wave(situation, playbook=…)` is the whole decision; the service (`dispatch.send_wave`) and
`bench/policies.py` both call it. It asks few and asks well:

- **Paced by the deadline.** The time left is split into rounds of asking (a round is the time by
  which most people who answer have answered, `ResponseModel.round_s`, at most the offer timeout),
  at most `pacing_rounds` of them. Each role must be `target_fill_probability` likely to be filled
  by the deadline; a wave asks only for its share of that target, 1 − (1 − target)^(1/rounds): with
  many rounds left it asks a few of the best-placed people and waits for their answers, with one
  round left it asks for the whole target at once. A role's odds count the places accepted and the
  offers still out (exact Poisson-binomial), each person with the chance they accept within the
  round (`ResponseModel.odds`); an offer that has gone unanswered counts for less as the silence
  lasts, so silence is replaced before the offer lapses.
- **Only people who can make it.** Nobody is asked whose ETA from now would land after the deadline
  plus the playbook's `arrival_allowance_s`.
- **Budgets.** The first wave asks at most `first_wave_per_place` per open place and
  `first_wave_max` people in all; every wave stops at the incident's offer budget
  (`Situation.budget`: the playbook's, or what the dispatcher raised it to). When a limit binds,
  the roles share it round-robin, scarcest first.
- **Widening.** A role is short when even everyone left in the radius who could arrive in time would
  probably not fill it by the deadline: the radius grows (`next_radius`) while that holds and there
  are such people further out.
- **Warning.** `missing` names the places the deadline will probably not see filled even if
  everyone left within the largest radius were asked now (within the budget left), with the cause.

A volunteer is offered at most one role per incident: the scarcest role (fewest people left per
open place) picks first, and a person it takes is skipped by the others. The candidates come in
asking order (`group_first`: the on-call standing group, the region, then mutual aid; within each,
ETA then acceptance); the decision never reorders them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from math import ceil, floor
from uuid import UUID

from services.mobilizer.playbooks import Playbook
from services.mobilizer.ranking import Ranked, ResponseModel
from shared.events.mobilization import Shortfall
from shared.events.volunteers import Role

REPLAN_EVERY_S = 30
WARN_BELOW_FILL_PROBABILITY = 0.5
_EXPECTED_WITHIN_S = (15, 30, 45, 60, 90, 120, 150, 180, 240, 300, 420, 600, 900)


@dataclass(frozen=True, slots=True)
class Outstanding:
    """An offer not answered yet: the acceptance estimate it was sent with, and its age."""

    p_accept: float
    elapsed_s: float = 0.0


@dataclass(frozen=True, slots=True)
class RoleProgress:
    """Where one role stands: places, accepts, offers still out, everyone ever asked for it.

    `pending` holds each outstanding offer; a bare float is an acceptance estimate of an offer
    just sent (elapsed 0), so silence does not count against it — pass `Outstanding` to let it.
    """

    role: Role
    needed: int
    accepted: int = 0
    pending: tuple[float | Outstanding, ...] = ()
    asked: frozenset[UUID] = frozenset()

    def outstanding(self) -> tuple[Outstanding, ...]:
        return tuple(o if isinstance(o, Outstanding) else Outstanding(o) for o in self.pending)

    @property
    def open_places(self) -> int:
        return max(0, self.needed - self.accepted)


@dataclass(frozen=True, slots=True)
class Situation:
    """Everything a wave decision reads: no clock, no database."""

    progress: Mapping[Role, RoleProgress]
    candidates: Mapping[Role, Sequence[Ranked]]
    """Each role's eligible people in asking order, as far out as the largest radius; those
    already asked are skipped."""
    radius_m: int
    elapsed_s: float
    """Since the mobilisation started (the deadline counts from there)."""
    budget: int
    """Offers the incident may send in all."""
    offers_sent: int = 0
    waves_sent: int = 0


@dataclass(frozen=True, slots=True)
class PlannedOffer:
    role: Role
    volunteer_id: UUID
    eta_s: int
    distance_m: int
    p_accept: float


@dataclass(frozen=True, slots=True)
class WaveDecision:
    wave: int
    """This wave's number when it sends offers, else the last wave's."""
    offers: tuple[PlannedOffer, ...]
    radius_m: int
    """The radius after any widening."""
    short_roles: tuple[Role, ...]
    """Roles still short of people who could arrive in time, even at this radius."""
    fill_probability: Mapping[Role, float]
    """Per open role, how likely it is to be filled within this round once the wave is out."""
    rounds_left: int
    budget: int
    budget_left: int
    """Offers left in the budget once this wave is out."""
    expected_complete_in_s: float | None
    """From now, when the group should be complete at this pace; None: not at this pace."""
    missing: Mapping[Role, int] | None
    """Places the deadline will probably not see filled, per role; None if all will be."""
    cause: Shortfall | None
    too_late: frozenset[UUID] = field(default_factory=frozenset)
    """Eligible people not asked because they could not arrive in time."""
    latest_eta_s: int = 0
    """The cut-off: the largest ETA from now that may still be asked."""
    replan_in_s: int | None = None
    """When to decide again if no answer comes first; None once the group is complete."""

    def offers_per_role(self) -> dict[Role, int]:
        counts: dict[Role, int] = {}
        for offer in self.offers:
            counts[offer.role] = counts.get(offer.role, 0) + 1
        return counts


def decide_wave(
    situation: Situation, *, playbook: Playbook, response: ResponseModel | None = None
) -> WaveDecision:
    """The next wave of one incident; see the module's docstring for the rules."""
    response = response or ResponseModel()
    progress = situation.progress
    time_left_s = playbook.deadline_s - situation.elapsed_s
    latest_eta_s = floor(playbook.deadline_s + playbook.arrival_allowance_s - situation.elapsed_s)
    open_roles = [p for p in progress.values() if p.open_places > 0]
    budget_left = max(0, situation.budget - situation.offers_sent)
    if not open_roles:
        return WaveDecision(
            wave=situation.waves_sent,
            offers=(),
            radius_m=situation.radius_m,
            short_roles=(),
            fill_probability={},
            rounds_left=0,
            budget=situation.budget,
            budget_left=budget_left,
            expected_complete_in_s=0.0,
            missing=None,
            cause=None,
            latest_eta_s=latest_eta_s,
        )
    asked = frozenset().union(*(p.asked for p in progress.values()))
    too_late: set[UUID] = set()
    usable: dict[Role, list[Ranked]] = {}
    for p in open_roles:
        kept = []
        for r in situation.candidates.get(p.role, ()):
            if r.volunteer_id in asked:
                continue
            if r.eta_s > latest_eta_s:
                too_late.add(r.volunteer_id)
            else:
                kept.append(r)
        usable[p.role] = kept
    # Until the deadline (or, once it has passed, until an offer lapses: the sooner the better).
    until_deadline_s = time_left_s if time_left_s > 0 else float(playbook.offer_timeout_s)
    clock = _Clock(response, playbook.offer_timeout_s)

    radius = situation.radius_m
    while True:
        short = [
            p.role
            for p in open_roles
            if _odds(p, _within(usable[p.role], radius), clock, until_deadline_s)
            < playbook.target_fill_probability
        ]
        wider = next_radius(radius, playbook) if short else None
        if wider is None or not any(
            radius < r.distance_m <= playbook.max_radius_m for role in short for r in usable[role]
        ):
            break
        radius = wider

    round_s = min(response.round_s(), float(playbook.offer_timeout_s))
    rounds_left = max(1, min(playbook.pacing_rounds, floor(max(0.0, time_left_s) / round_s)))
    role_goal = 1.0 - (1.0 - playbook.target_fill_probability) ** (1.0 / rounds_left)
    horizon_s = min(round_s, until_deadline_s)
    in_radius = {p.role: _within(usable[p.role], radius) for p in open_roles}
    order = {role: index for index, (role, _) in enumerate(playbook.roles)}
    open_roles.sort(
        key=lambda p: (len(in_radius[p.role]) / p.open_places, order.get(p.role, len(order)))
    )
    wave_limit = budget_left
    if situation.waves_sent == 0:
        wave_limit = min(wave_limit, playbook.first_wave_max)
    wanted: dict[Role, list[Ranked]] = {}
    odds_by_role: dict[Role, float] = {}
    taken: set[UUID] = set()
    for p in open_roles:
        cap = playbook.max_offers_per_role_per_wave
        if situation.waves_sent == 0:
            cap = min(cap, ceil(playbook.first_wave_per_place * p.open_places))
        odds = _Odds(p.open_places, (clock.pending(o, horizon_s) for o in p.outstanding()))
        chosen: list[Ranked] = []
        for r in in_radius[p.role]:
            if odds.filled >= role_goal or len(chosen) >= cap:
                break
            if r.volunteer_id in taken:
                continue
            chosen.append(r)
            taken.add(r.volunteer_id)
            odds.add(clock.new(r.p_accept, horizon_s))
        wanted[p.role] = chosen
        odds_by_role[p.role] = odds.filled
    granted = _share(wanted, [p.role for p in open_roles], limit=wave_limit)
    offers = tuple(
        PlannedOffer(p.role, r.volunteer_id, r.eta_s, r.distance_m, r.p_accept)
        for p in open_roles
        for r in granted[p.role]
    )
    if any(len(granted[role]) < len(chosen) for role, chosen in wanted.items()):
        odds_by_role = {p.role: _odds(p, granted[p.role], clock, horizon_s) for p in open_roles}
    budget_after = budget_left - len(offers)
    planned_ids = {offer.volunteer_id for offer in offers}
    missing, cause = _missing(
        open_roles,
        granted,
        {role: [r for r in rs if r.volunteer_id not in planned_ids] for role, rs in usable.items()},
        clock=clock,
        time_left_s=time_left_s,
        budget_left=budget_after,
    )
    waiting = bool(offers) or any(p.pending for p in open_roles)
    short_roles = sorted(short, key=lambda role: order.get(role, len(order)))
    return WaveDecision(
        wave=situation.waves_sent + (1 if offers else 0),
        offers=offers,
        radius_m=radius,
        short_roles=tuple(short_roles),
        fill_probability=odds_by_role,
        rounds_left=rounds_left,
        budget=situation.budget,
        budget_left=budget_after,
        expected_complete_in_s=_expected_complete_s(
            open_roles, granted, clock=clock, round_s=round_s
        ),
        missing=missing,
        cause=cause,
        too_late=frozenset(too_late),
        latest_eta_s=latest_eta_s,
        replan_in_s=REPLAN_EVERY_S if waiting else playbook.offer_timeout_s,
    )


def fill_probability(accepted: int, needed: int, odds: Iterable[float]) -> float:
    """P(accepted + successes ≥ needed), each of `odds` an independent chance of success."""
    return _Odds(needed - accepted, odds).filled


def next_radius(current_m: int, playbook: Playbook) -> int | None:
    """The next, wider radius, or None when `current_m` is already the largest."""
    if current_m >= playbook.max_radius_m:
        return None
    return min(playbook.max_radius_m, ceil(current_m * playbook.radius_growth))


def is_complete(progress_by_role: Mapping[Role, RoleProgress]) -> bool:
    return all(p.open_places == 0 for p in progress_by_role.values())


def group_first(
    ranked: Sequence[Ranked], role: Role, *, region_codes: Collection[str]
) -> list[Ranked]:
    """`ranked` reordered in tiers: the standing group on call for `role`, the region, others.

    Tier 1 is the on-call members of the incident's region(s) standing group whose seat is `role`;
    tier 2 everyone else living in those regions; tier 3 volunteers of other regions, asked only
    when the first two cannot fill the role (mutual aid). Order within a tier is kept.
    """

    def tier(r: Ranked) -> int:
        candidate = r.candidate
        if candidate.region_code not in region_codes:
            return 2
        return 0 if candidate.on_call and candidate.group_role is role else 1

    return sorted(ranked, key=tier)


@dataclass(frozen=True, slots=True)
class _Clock:
    """Each offer's chance of an accept within a horizon from now (never after it lapses)."""

    response: ResponseModel
    timeout_s: int
    _answered: dict[float, float] = field(default_factory=dict, repr=False, compare=False)
    """`response.answered_by` of each horizon asked so far (a wave asks a few hundred times)."""

    def new(self, p_accept: float, horizon_s: float) -> float:
        # `response.odds` of an offer not yet out: no silence to read, so the chance of an
        # accept within the horizon is p_accept times the chance of any answer by then.
        end_s = min(float(self.timeout_s), horizon_s)
        if end_s <= 0:
            return 0.0
        answered = self._answered.get(end_s)
        if answered is None:
            answered = self._answered[end_s] = self.response.answered_by(end_s)
        return p_accept * answered

    def pending(self, offer: Outstanding, horizon_s: float) -> float:
        return self.response.odds(
            offer.p_accept, elapsed_s=offer.elapsed_s, horizon_s=horizon_s, timeout_s=self.timeout_s
        )


def _within(ranked: Sequence[Ranked], radius_m: int) -> list[Ranked]:
    return [r for r in ranked if r.distance_m <= radius_m]


def _odds(
    progress: RoleProgress,
    people: Iterable[Ranked],
    clock: _Clock,
    horizon_s: float,
) -> float:
    """P(the role is filled within `horizon_s`) with its offers out and `people` asked now."""
    odds = _Odds(
        progress.open_places, (clock.pending(o, horizon_s) for o in progress.outstanding())
    )
    odds.add_all(clock.new(r.p_accept, horizon_s) for r in people)
    return odds.filled


def _share(
    wanted: Mapping[Role, list[Ranked]], roles: Sequence[Role], *, limit: int
) -> dict[Role, list[Ranked]]:
    """Each role's wanted people cut so that all together stay within `limit`: one at a time per
    role in turn (scarcest first), so no role is left out because another wanted many."""
    if sum(len(people) for people in wanted.values()) <= limit:
        return {role: list(wanted[role]) for role in roles}
    granted: dict[Role, list[Ranked]] = {role: [] for role in roles}
    left = limit
    depth = 0
    while left > 0:
        progressed = False
        for role in roles:
            if left == 0:
                break
            if depth < len(wanted[role]):
                granted[role].append(wanted[role][depth])
                left -= 1
                progressed = True
        if not progressed:
            break
        depth += 1
    return granted


def _missing(
    open_roles: Sequence[RoleProgress],
    granted: Mapping[Role, Sequence[Ranked]],
    left: Mapping[Role, Sequence[Ranked]],
    *,
    clock: _Clock,
    time_left_s: float,
    budget_left: int,
) -> tuple[dict[Role, int] | None, Shortfall | None]:
    """Open places the deadline will probably not see filled even if everyone left who could
    arrive in time (as far as the budget reaches) were asked now, and why."""
    if time_left_s <= 0:
        return {p.role: p.open_places for p in open_roles}, Shortfall.DEADLINE_PASSED
    missing: dict[Role, int] = {}
    budget_binds = False
    for p in open_roles:
        with_plan = _Odds(
            p.open_places,
            [clock.pending(o, time_left_s) for o in p.outstanding()]
            + [clock.new(r.p_accept, time_left_s) for r in granted[p.role]],
        )
        everyone = [clock.new(r.p_accept, time_left_s) for r in left[p.role]]
        affordable = with_plan.copy()
        affordable.add_all(everyone[:budget_left])
        if affordable.filled >= WARN_BELOW_FILL_PROBABILITY:
            continue
        missing[p.role] = p.open_places
        with_plan.add_all(everyone)
        if with_plan.filled >= WARN_BELOW_FILL_PROBABILITY:
            budget_binds = True
    if not missing:
        return None, None
    return missing, Shortfall.BUDGET_SPENT if budget_binds else Shortfall.TOO_FEW_PEOPLE


def _expected_complete_s(
    open_roles: Sequence[RoleProgress],
    granted: Mapping[Role, Sequence[Ranked]],
    *,
    clock: _Clock,
    round_s: float,
) -> float | None:
    """When, from now, the slowest role should be filled at this pace: the first time by which
    its offers out are even odds to fill it, or else as many rounds as its open places need at
    the accepts a round of this size brings."""
    horizons = [within_s for within_s in _EXPECTED_WITHIN_S if within_s <= clock.timeout_s]
    slowest = 0.0
    for p in open_roles:
        even_odds_by = partial(
            _even_odds_by,
            places=p.open_places,
            outstanding=p.outstanding(),
            asked=granted[p.role],
            clock=clock,
        )
        # The odds only grow with the horizon: the first that reaches even, by bisection.
        first = bisect_left(horizons, True, key=even_odds_by)
        estimate = float(horizons[first]) if first < len(horizons) else None
        if estimate is None:
            per_round = sum(clock.pending(o, round_s) for o in p.outstanding()) + sum(
                clock.new(r.p_accept, round_s) for r in granted[p.role]
            )
            if per_round <= 0:
                return None
            estimate = round_s * max(1.0, p.open_places / per_round)
        slowest = max(slowest, estimate)
    return slowest


def _even_odds_by(
    within_s: float,
    *,
    places: int,
    outstanding: Sequence[Outstanding],
    asked: Sequence[Ranked],
    clock: _Clock,
) -> bool:
    """Whether the offers out and those asked now are even odds to fill `places` by `within_s`."""
    odds = _Odds(
        places,
        [clock.pending(o, within_s) for o in outstanding]
        + [clock.new(r.p_accept, within_s) for r in asked],
    )
    return odds.filled >= 0.5


class _Odds:
    """Distribution of the number of accepts, capped at `places` (reaching it is what matters)."""

    def __init__(self, places: int, odds: Iterable[float] = ()) -> None:
        self._places = max(0, places)
        self._p = [1.0] + [0.0] * self._places
        self.add_all(odds)

    @property
    def filled(self) -> float:
        return self._p[-1]

    def add(self, p: float) -> None:
        if self._places == 0:
            return
        q = 1.0 - p
        dist = self._p
        dist[-1] += dist[-2] * p
        for k in range(self._places - 1, 0, -1):
            dist[k] = dist[k] * q + dist[k - 1] * p
        dist[0] *= q

    def add_all(self, odds: Iterable[float]) -> None:
        for p in odds:
            self.add(p)

    def copy(self) -> _Odds:
        other = _Odds(0)
        other._places, other._p = self._places, list(self._p)
        return other
