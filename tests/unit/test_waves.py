"""The wave policy: ask enough, replace the lost, widen, warn early, stop when complete."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from math import comb
from uuid import UUID

import pytest

from services.mobilizer.eligibility import Candidate
from services.mobilizer.playbooks import Playbook, load_playbooks
from services.mobilizer.ranking import Ranked, ResponseModel
from services.mobilizer.waves import (
    Outstanding,
    RoleProgress,
    WavePlan,
    fill_probability,
    group_first,
    is_complete,
    next_radius,
    plan_wave,
    understaffed,
)
from shared.events.incidents import IncidentType, Priority
from shared.events.volunteers import Availability, Role, TransportMode
from shared.reference import KAZAKHSTAN_TZ

NOW = datetime(2026, 4, 2, 14, 0, tzinfo=KAZAKHSTAN_TZ)
BASE = load_playbooks().for_incident(IncidentType.FLOOD, Priority.CRITICAL)
# Everyone answers at once: a wave then counts plain acceptance estimates.
INSTANT = ResponseModel(median_s=0.001, sigma=0.1)


def playbook(**overrides: object) -> Playbook:
    return dataclasses.replace(BASE, **overrides)  # type: ignore[arg-type]


def person(
    n: int,
    *,
    p: float = 0.25,
    eta_s: int | None = None,
    region: str = "KZ-39",
    group_role: Role | None = None,
    on_call: bool = False,
) -> Ranked:
    """The n-th candidate: ids and ETAs grow with n, so list order is ranking order."""
    candidate = Candidate(
        volunteer_id=UUID(int=n),
        birth_date=date(1990, 1, 1),
        availability=Availability.AVAILABLE,
        transport_mode=TransportMode.CAR,
        home_lon=63.6,
        home_lat=53.2,
        region_code=region,
        phone="+77011234567",
        group_role=group_role,
        on_call=on_call,
    )
    return Ranked(candidate, eta_s=eta_s or 300 + 60 * n, distance_m=1_000 * n, p_accept=p)


def people(first: int, count: int, *, p: float = 0.25) -> list[Ranked]:
    return [person(n, p=p) for n in range(first, first + count)]


def test_fill_probability_is_the_exact_poisson_binomial_tail() -> None:
    binomial = sum(comb(10, k) * 0.3**k * 0.7 ** (10 - k) for k in range(3, 11))
    assert fill_probability(0, 3, [0.3] * 10) == pytest.approx(binomial)
    assert fill_probability(1, 2, [0.5, 0.5]) == pytest.approx(0.75)
    assert fill_probability(2, 2, []) == 1.0
    assert fill_probability(0, 1, []) == 0.0


def test_wave_asks_more_people_when_acceptance_is_low() -> None:
    book = playbook(roles=((Role.MEDIC, 2),))
    progress = {Role.MEDIC: RoleProgress(Role.MEDIC, needed=2)}

    def asked(p: float) -> int:
        plan = plan_wave(
            progress,
            {Role.MEDIC: people(1, 40, p=p)},
            playbook=book,
            wave_number=1,
            response=INSTANT,
        )
        assert plan.fill_probability[Role.MEDIC] >= 0.9
        return len(plan.offers)

    assert asked(0.6) < asked(0.25) < asked(0.1)
    # The fewest with P(at least 2 of n accept) ≥ 0.9 at p = 0.25: 14 give 0.899, 15 give 0.920.
    assert asked(0.25) == 15


def test_the_target_is_for_the_whole_group() -> None:
    alone = playbook(roles=((Role.MEDIC, 1),))
    with_others = playbook(roles=((Role.MEDIC, 1), (Role.SEARCHER, 1), (Role.LEADER, 1)))
    ranked = {
        Role.MEDIC: people(1, 60),
        Role.SEARCHER: people(100, 60),
        Role.LEADER: people(200, 60),
    }

    def plan(book: Playbook) -> WavePlan:
        progress = {role: RoleProgress(role, needed=n) for role, n in book.roles}
        return plan_wave(progress, ranked, playbook=book, wave_number=1, response=INSTANT)

    assert plan(alone).offers_per_role()[Role.MEDIC] == 9
    three = plan(with_others)
    assert three.offers_per_role()[Role.MEDIC] > 9
    group_odds = 1.0
    for odds in three.fill_probability.values():
        group_odds *= odds
    assert group_odds >= 0.9


def test_wave_asks_the_next_ranked_first() -> None:
    book = playbook(roles=((Role.MEDIC, 1),))
    progress = {Role.MEDIC: RoleProgress(Role.MEDIC, needed=1)}
    plan = plan_wave(
        progress, {Role.MEDIC: people(1, 30)}, playbook=book, wave_number=1, response=INSTANT
    )
    assert [o.volunteer_id for o in plan.offers] == [UUID(int=n) for n in range(1, 10)]
    assert plan.offers[0].eta_s == 360
    assert plan.offers[0].distance_m == 1_000


def test_nobody_more_is_asked_while_the_outstanding_offers_suffice() -> None:
    book = playbook(roles=((Role.MEDIC, 1),))
    progress = {
        Role.MEDIC: RoleProgress(
            Role.MEDIC, needed=1, pending=(0.5,) * 4, asked=frozenset({UUID(int=99)})
        )
    }
    plan = plan_wave(
        progress, {Role.MEDIC: people(1, 30)}, playbook=book, wave_number=2, response=INSTANT
    )
    assert plan.offers == ()
    assert plan.short_roles == ()


def test_declines_are_replaced_in_the_next_wave() -> None:
    book = playbook(roles=((Role.MEDIC, 1),))
    candidates = {Role.MEDIC: people(1, 30)}
    first = plan_wave(
        {Role.MEDIC: RoleProgress(Role.MEDIC, needed=1)},
        candidates,
        playbook=book,
        wave_number=1,
        response=INSTANT,
    )
    asked = frozenset(o.volunteer_id for o in first.offers)
    # Three of the nine declined; six are still outstanding.
    after_declines = RoleProgress(Role.MEDIC, needed=1, pending=(0.25,) * 6, asked=asked)
    second = plan_wave(
        {Role.MEDIC: after_declines}, candidates, playbook=book, wave_number=2, response=INSTANT
    )
    assert len(second.offers) == 3
    assert {o.volunteer_id for o in second.offers}.isdisjoint(asked)
    assert [o.volunteer_id for o in second.offers] == [UUID(int=n) for n in (10, 11, 12)]


def test_accepted_places_are_not_asked_for_again() -> None:
    book = playbook(roles=((Role.MEDIC, 2),))
    done = {Role.MEDIC: RoleProgress(Role.MEDIC, needed=2, accepted=2)}
    assert plan_wave(done, {Role.MEDIC: people(1, 30)}, playbook=book, wave_number=3).offers == ()


def test_a_wave_is_capped_per_role_without_calling_the_role_short() -> None:
    book = playbook(roles=((Role.SEARCHER, 10),), max_offers_per_role_per_wave=20)
    progress = {Role.SEARCHER: RoleProgress(Role.SEARCHER, needed=10)}
    plan = plan_wave(progress, {Role.SEARCHER: people(1, 200)}, playbook=book, wave_number=1)
    assert len(plan.offers) == 20
    assert plan.short_roles == ()


def test_a_role_with_too_few_candidates_in_the_radius_is_short() -> None:
    book = playbook(roles=((Role.DOG_HANDLER, 1), (Role.MEDIC, 1)))
    progress = {
        Role.DOG_HANDLER: RoleProgress(Role.DOG_HANDLER, needed=1),
        Role.MEDIC: RoleProgress(Role.MEDIC, needed=1),
    }
    ranked = {Role.DOG_HANDLER: people(1, 2), Role.MEDIC: people(100, 30)}
    plan = plan_wave(progress, ranked, playbook=book, wave_number=1, response=INSTANT)
    assert plan.short_roles == (Role.DOG_HANDLER,)
    # Two roles open: each must reach √0.9 ≈ 0.949 for the group to reach 0.9, so 11 medics.
    assert plan.offers_per_role() == {Role.DOG_HANDLER: 2, Role.MEDIC: 11}


def test_a_volunteer_is_offered_one_role_where_they_are_scarcest() -> None:
    book = playbook(roles=((Role.MEDIC, 1), (Role.PSYCHOLOGIST, 1)))
    progress = {
        Role.MEDIC: RoleProgress(Role.MEDIC, needed=1),
        Role.PSYCHOLOGIST: RoleProgress(Role.PSYCHOLOGIST, needed=1),
    }
    both = person(1)  # first in both rankings
    ranked = {Role.MEDIC: [both, *people(2, 30)], Role.PSYCHOLOGIST: [both, person(50)]}
    plan = plan_wave(progress, ranked, playbook=book, wave_number=1)
    roles_of_both = [o.role for o in plan.offers if o.volunteer_id == both.volunteer_id]
    assert roles_of_both == [Role.PSYCHOLOGIST]
    assert len({o.volunteer_id for o in plan.offers}) == len(plan.offers)


def test_someone_asked_for_one_role_is_never_asked_for_another() -> None:
    book = playbook(roles=((Role.MEDIC, 1), (Role.SEARCHER, 1)))
    declined_as_medic = person(1)
    progress = {
        Role.MEDIC: RoleProgress(Role.MEDIC, needed=1, asked=frozenset({UUID(int=1)})),
        Role.SEARCHER: RoleProgress(Role.SEARCHER, needed=1),
    }
    ranked = {Role.MEDIC: people(2, 30), Role.SEARCHER: [declined_as_medic, *people(40, 30)]}
    plan = plan_wave(progress, ranked, playbook=book, wave_number=2)
    assert declined_as_medic.volunteer_id not in {o.volunteer_id for o in plan.offers}


def test_radius_widens_until_the_largest_then_stops() -> None:
    book = playbook(first_radius_m=15_000, max_radius_m=100_000, radius_growth=2.0)
    radii = [book.first_radius_m]
    while (wider := next_radius(radii[-1], book)) is not None:
        radii.append(wider)
    assert radii == [15_000, 30_000, 60_000, 100_000]


def test_group_is_complete_when_every_role_is_filled() -> None:
    filling = {
        Role.MEDIC: RoleProgress(Role.MEDIC, needed=2, accepted=2),
        Role.LEADER: RoleProgress(Role.LEADER, needed=1, accepted=0, pending=(0.9,)),
    }
    assert not is_complete(filling)
    filling[Role.LEADER] = RoleProgress(Role.LEADER, needed=1, accepted=1)
    assert is_complete(filling)


def test_understaffed_is_raised_before_the_deadline() -> None:
    progress = {
        Role.MEDIC: RoleProgress(Role.MEDIC, needed=2, accepted=2),
        Role.WATER_RESCUER: RoleProgress(Role.WATER_RESCUER, needed=3, accepted=1, pending=(0.3,)),
    }

    def missing(time_left_s: int) -> dict[Role, int] | None:
        return understaffed(
            progress,
            {Role.WATER_RESCUER: people(1, 50)},
            now=NOW,
            deadline_at=NOW + timedelta(seconds=time_left_s),
            offer_timeout_s=180,
        )

    # Fifty people left to ask: enough with half an hour to go, not with half a minute, since
    # few answer that fast (median 90 s).
    assert missing(1800) is None
    assert missing(30) == {Role.WATER_RESCUER: 2}


def test_understaffed_when_nobody_is_left_to_ask() -> None:
    progress = {Role.DOG_HANDLER: RoleProgress(Role.DOG_HANDLER, needed=1, pending=(0.2,))}
    missing = understaffed(
        progress,
        {Role.DOG_HANDLER: []},
        now=NOW,
        deadline_at=NOW + timedelta(hours=1),
        offer_timeout_s=180,
    )
    assert missing == {Role.DOG_HANDLER: 1}


def test_no_warning_while_time_and_candidates_remain() -> None:
    progress = {Role.MEDIC: RoleProgress(Role.MEDIC, needed=2, pending=(0.25,) * 3)}
    assert (
        understaffed(
            progress,
            {Role.MEDIC: people(1, 30)},
            now=NOW,
            deadline_at=NOW + timedelta(hours=1),
            offer_timeout_s=180,
        )
        is None
    )


def test_after_the_deadline_every_open_place_is_missing() -> None:
    progress = {
        Role.MEDIC: RoleProgress(Role.MEDIC, needed=2, accepted=1, pending=(0.99,) * 5),
        Role.LEADER: RoleProgress(Role.LEADER, needed=1, accepted=1),
    }
    missing = understaffed(
        progress, {}, now=NOW, deadline_at=NOW - timedelta(seconds=1), offer_timeout_s=180
    )
    assert missing == {Role.MEDIC: 1}


def test_on_call_group_members_are_asked_first() -> None:
    nearby = [person(n) for n in range(1, 20)]
    on_call_medic = person(30, group_role=Role.MEDIC, on_call=True)
    off_call_medic = person(31, group_role=Role.MEDIC, on_call=False)
    on_call_driver = person(32, group_role=Role.DRIVER_4X4, on_call=True)
    ranked = [*nearby, on_call_medic, off_call_medic, on_call_driver]
    ordered = group_first(ranked, Role.MEDIC, region_codes={"KZ-39"})
    assert ordered[0] is on_call_medic
    assert ordered[1:] == [*nearby, off_call_medic, on_call_driver]
    book = playbook(roles=((Role.MEDIC, 1),))
    plan = plan_wave(
        {Role.MEDIC: RoleProgress(Role.MEDIC, needed=1)},
        {Role.MEDIC: ordered},
        playbook=book,
        wave_number=1,
    )
    assert plan.offers[0].volunteer_id == on_call_medic.volunteer_id


def test_mutual_aid_comes_after_the_regions_own_volunteers() -> None:
    across_the_border = person(1, region="KZ-59")
    own = [person(n) for n in range(2, 6)]
    ordered = group_first([across_the_border, *own], Role.MEDIC, region_codes={"KZ-39"})
    assert ordered == [*own, across_the_border]
    both_regions = group_first(
        [across_the_border, *own], Role.MEDIC, region_codes={"KZ-39", "KZ-59"}
    )
    assert both_regions[0] is across_the_border


def test_a_shorter_horizon_asks_more_people_up_front() -> None:
    progress = {Role.SEARCHER: RoleProgress(Role.SEARCHER, needed=4)}
    ranked = {Role.SEARCHER: people(1, 200)}

    def asked(fill_within_s: int) -> int:
        book = playbook(
            roles=((Role.SEARCHER, 4),),
            fill_within_s=fill_within_s,
            max_offers_per_role_per_wave=200,
        )
        return len(plan_wave(progress, ranked, playbook=book, wave_number=1).offers)

    assert asked(60) > asked(120) > asked(180)


def test_silence_lowers_the_odds_of_an_outstanding_offer() -> None:
    response = ResponseModel()
    odds = [response.odds(0.25, elapsed_s=t, timeout_s=300) for t in (0, 60, 120, 240, 300)]
    assert odds == sorted(odds, reverse=True)
    assert odds[0] == pytest.approx(0.25 * response.answered_by(300))
    assert odds[-1] == 0.0


def test_an_unanswered_offer_is_replaced_before_it_lapses() -> None:
    book = playbook(roles=((Role.MEDIC, 1),), offer_timeout_s=600, fill_within_s=600)
    ranked = {Role.MEDIC: people(2, 30)}
    asked = frozenset({UUID(int=1)})

    def new_offers(elapsed_s: float) -> int:
        waiting = RoleProgress(
            Role.MEDIC, needed=1, pending=(Outstanding(0.99, elapsed_s),), asked=asked
        )
        return len(plan_wave({Role.MEDIC: waiting}, ranked, playbook=book, wave_number=2).offers)

    # A near-certain volunteer, just asked: nobody else is needed. Still silent after 7½ of
    # the 10 minutes, they probably will not answer: ask others before the offer lapses.
    assert new_offers(0) == 0
    assert new_offers(450) > 0
