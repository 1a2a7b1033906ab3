"""The wave policy: how many people to ask, whom, and when to widen, warn or stop.

A wave asks the fewest next-ranked people not yet asked such that the group is at least
`target_fill_probability` likely to be complete within the playbook's `fill_within_s`: with n roles
open, each must reach target^(1/n). A role's odds count the places already accepted and the offers
still out (exact Poisson-binomial), each person with the chance they accept *in time* — their
acceptance estimate × the chance of an answer within the horizon (`ResponseModel`); an offer that
has gone unanswered counts for less as the silence lasts.

A role is short — widen the radius (`next_radius`) — when even everyone left in the radius would
probably not fill it before their offers lapse: too few people, not too little time.

The service plans a new wave whenever the odds may have fallen: after each answer or timeout (so
declines are replaced) and on a timer every `REPLAN_EVERY_S` (so silence is replaced before the
offer lapses). It stops and stands the outstanding offers down once `is_complete`, and warns the
dispatcher when `understaffed` says the deadline will probably not be met.

A volunteer is offered at most one role per incident: a wave plans the scarcest role first (fewest
candidates not yet asked per open place), and a person it takes is skipped by the others, so
someone who is both the only psychologist around and one of fifty medics is asked as psychologist.

The standing group comes first (`group_first`): the on-call members of the incident region's mobile
group seated in the role, then the region's other volunteers, then other regions' (mutual aid),
each tier in ranking order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil
from uuid import UUID

from services.mobilizer.playbooks import Playbook
from services.mobilizer.ranking import Ranked, ResponseModel
from shared.events.volunteers import Role

REPLAN_EVERY_S = 30
WARN_BELOW_FILL_PROBABILITY = 0.5


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
class PlannedOffer:
    role: Role
    volunteer_id: UUID
    eta_s: int
    distance_m: int
    p_accept: float


@dataclass(frozen=True, slots=True)
class WavePlan:
    wave: int
    offers: tuple[PlannedOffer, ...]
    short_roles: tuple[Role, ...]
    """Roles still below the target even if everyone left in the radius were asked: widen."""
    fill_probability: Mapping[Role, float] = field(default_factory=dict)
    """Per open role, how likely it is to be filled within the horizon once this wave is out."""

    def offers_per_role(self) -> dict[Role, int]:
        counts: dict[Role, int] = {}
        for offer in self.offers:
            counts[offer.role] = counts.get(offer.role, 0) + 1
        return counts


def fill_probability(accepted: int, needed: int, odds: Iterable[float]) -> float:
    """P(accepted + successes ≥ needed), each of `odds` an independent chance of success."""
    return _Odds(needed - accepted, odds).filled


def plan_wave(
    progress_by_role: Mapping[Role, RoleProgress],
    ranked_by_role: Mapping[Role, Sequence[Ranked]],
    *,
    playbook: Playbook,
    wave_number: int,
    response: ResponseModel | None = None,
) -> WavePlan:
    """The offers of the next wave; `ranked_by_role` holds each role's candidates in the radius."""
    chances = _Chances(response or ResponseModel(), playbook)
    asked = frozenset().union(*(p.asked for p in progress_by_role.values()))
    order = {role: index for index, (role, _) in enumerate(playbook.roles)}
    open_roles = [p for p in progress_by_role.values() if p.open_places > 0]
    available = {
        p.role: [r for r in ranked_by_role.get(p.role, ()) if r.volunteer_id not in asked]
        for p in open_roles
    }
    open_roles.sort(
        key=lambda p: (len(available[p.role]) / p.open_places, order.get(p.role, len(order)))
    )
    taken: set[UUID] = set()
    offers: list[PlannedOffer] = []
    short: list[Role] = []
    odds_by_role: dict[Role, float] = {}
    role_target = playbook.target_fill_probability ** (1 / max(1, len(open_roles)))
    for progress in open_roles:
        chosen, odds, is_short = _choose(
            progress,
            [r for r in available[progress.role] if r.volunteer_id not in taken],
            chances=chances,
            target=role_target,
            cap=playbook.max_offers_per_role_per_wave,
        )
        taken.update(r.volunteer_id for r in chosen)
        offers.extend(
            PlannedOffer(progress.role, r.volunteer_id, r.eta_s, r.distance_m, r.p_accept)
            for r in chosen
        )
        odds_by_role[progress.role] = odds
        if is_short:
            short.append(progress.role)
    short.sort(key=lambda role: order.get(role, len(order)))
    return WavePlan(
        wave=wave_number,
        offers=tuple(offers),
        short_roles=tuple(short),
        fill_probability=odds_by_role,
    )


def next_radius(current_m: int, playbook: Playbook) -> int | None:
    """The next, wider radius, or None when `current_m` is already the largest."""
    if current_m >= playbook.max_radius_m:
        return None
    return min(playbook.max_radius_m, ceil(current_m * playbook.radius_growth))


def is_complete(progress_by_role: Mapping[Role, RoleProgress]) -> bool:
    return all(p.open_places == 0 for p in progress_by_role.values())


def understaffed(
    progress_by_role: Mapping[Role, RoleProgress],
    ranked_remaining: Mapping[Role, Sequence[Ranked]],
    *,
    now: datetime,
    deadline_at: datetime,
    offer_timeout_s: int,
    response: ResponseModel | None = None,
    warn_below: float = WARN_BELOW_FILL_PROBABILITY,
) -> dict[Role, int] | None:
    """Open places per role the deadline will probably not see filled, or None if all will be.

    `ranked_remaining` holds each role's candidates up to the largest radius. A role is at risk
    when it is less than `warn_below` likely to be filled before the deadline even if everyone left
    were asked now, each counted with the chance they answer yes before the deadline (so the
    warning comes early: as soon as the time left is too short for the people left).
    """
    response = response or ResponseModel()
    remaining_s = (deadline_at - now).total_seconds()
    asked = frozenset().union(*(p.asked for p in progress_by_role.values()))
    missing: dict[Role, int] = {}
    for progress in progress_by_role.values():
        if progress.open_places == 0:
            continue
        odds = [
            response.odds(
                o.p_accept, elapsed_s=o.elapsed_s, horizon_s=remaining_s, timeout_s=offer_timeout_s
            )
            for o in progress.outstanding()
        ]
        odds.extend(
            response.odds(r.p_accept, horizon_s=remaining_s, timeout_s=offer_timeout_s)
            for r in ranked_remaining.get(progress.role, ())
            if r.volunteer_id not in asked
        )
        if remaining_s <= 0 or fill_probability(0, progress.open_places, odds) < warn_below:
            missing[progress.role] = progress.open_places
    return missing or None


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
class _Chances:
    """Each offer's chance of an accept within the playbook's horizon, or before it lapses."""

    response: ResponseModel
    playbook: Playbook

    def new(self, ranked: Ranked, *, in_time: bool = True) -> float:
        return self.response.odds(
            ranked.p_accept,
            horizon_s=self.playbook.fill_within_s if in_time else None,
            timeout_s=self.playbook.offer_timeout_s,
        )

    def pending(self, offer: Outstanding, *, in_time: bool = True) -> float:
        return self.response.odds(
            offer.p_accept,
            elapsed_s=offer.elapsed_s,
            horizon_s=self.playbook.fill_within_s if in_time else None,
            timeout_s=self.playbook.offer_timeout_s,
        )


def _choose(
    progress: RoleProgress,
    available: Sequence[Ranked],
    *,
    chances: _Chances,
    target: float,
    cap: int,
) -> tuple[list[Ranked], float, bool]:
    """The next-ranked people to ask, the role's odds after asking them, and whether it is short.

    Short means that even everyone left in the radius would probably not fill the role before
    their offers lapse: a matter of too few people, which a wider radius cures, not of time.
    """
    outstanding = progress.outstanding()
    odds = _Odds(progress.open_places, (chances.pending(o) for o in outstanding))
    chosen: list[Ranked] = []
    for candidate in available:
        if odds.filled >= target or len(chosen) == cap:
            break
        chosen.append(candidate)
        odds.add(chances.new(candidate))
    eventually = _Odds(
        progress.open_places, (chances.pending(o, in_time=False) for o in outstanding)
    )
    for candidate in available:
        if eventually.filled >= target:
            break
        eventually.add(chances.new(candidate, in_time=False))
    return chosen, odds.filled, eventually.filled < target


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
