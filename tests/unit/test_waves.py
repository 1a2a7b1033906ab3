"""The wave decision: ask few and well, pace by the deadline, stay in budget, widen, warn."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from datetime import date
from math import comb
from uuid import UUID

import pytest

from services.mobilizer.eligibility import Candidate
from services.mobilizer.playbooks import Playbook, load_playbooks
from services.mobilizer.ranking import Ranked, ResponseModel
from services.mobilizer.waves import (
    _EXPECTED_WITHIN_S,
    REPLAN_EVERY_S,
    Outstanding,
    RoleProgress,
    Situation,
    WaveDecision,
    _Clock,
    _even_odds_by,
    _expected_complete_s,
    decide_wave,
    fill_probability,
    group_first,
    is_complete,
    next_radius,
)
from shared.events.incidents import IncidentType, Priority
from shared.events.mobilization import Shortfall
from shared.events.volunteers import Availability, Role, TransportMode

BASE = load_playbooks().for_incident(IncidentType.FLOOD, Priority.CRITICAL)
# Everyone answers at once: a wave then counts plain acceptance estimates.
INSTANT = ResponseModel(median_s=0.001, sigma=0.1)


def playbook(**overrides: object) -> Playbook:
    values: dict[str, object] = {
        "roles": ((Role.MEDIC, 1),),
        "deadline_s": 2_700,
        "offer_timeout_s": 180,
        "first_radius_m": 10_000,
        "max_radius_m": 80_000,
        "radius_growth": 2.0,
        "target_fill_probability": 0.9,
        "pacing_rounds": 4,
        "arrival_allowance_s": 2_700,
        "offer_budget_per_place": 12,
        "first_wave_per_place": 3.0,
        "first_wave_max": 30,
        "max_offers_per_role_per_wave": 60,
    }
    values.update(overrides)
    return dataclasses.replace(BASE, **values)  # type: ignore[arg-type]


def person(
    n: int,
    *,
    p: float = 0.25,
    eta_s: int | None = None,
    distance_m: int | None = None,
    region: str = "KZ-39",
    group_role: Role | None = None,
    on_call: bool = False,
) -> Ranked:
    """The n-th candidate: ids, distances and ETAs grow with n, so list order is ranking order."""
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
    return Ranked(
        candidate,
        eta_s=eta_s if eta_s is not None else 300 + 10 * n,
        distance_m=distance_m if distance_m is not None else 100 * n,
        p_accept=p,
    )


def people(first: int, count: int, *, p: float = 0.25) -> list[Ranked]:
    return [person(n, p=p) for n in range(first, first + count)]


def decide(
    book: Playbook,
    candidates: Mapping[Role, Sequence[Ranked]],
    *,
    progress: Mapping[Role, RoleProgress] | None = None,
    elapsed_s: float = 0.0,
    radius_m: int | None = None,
    budget: int | None = None,
    offers_sent: int = 0,
    waves_sent: int = 0,
    response: ResponseModel | None = None,
) -> WaveDecision:
    return decide_wave(
        Situation(
            progress=progress or {role: RoleProgress(role, needed=n) for role, n in book.roles},
            candidates=candidates,
            radius_m=radius_m or book.first_radius_m,
            elapsed_s=elapsed_s,
            budget=book.offer_budget() if budget is None else budget,
            offers_sent=offers_sent,
            waves_sent=waves_sent,
        ),
        playbook=book,
        response=response,
    )


def test_fill_probability_is_the_exact_poisson_binomial_tail() -> None:
    binomial = sum(comb(10, k) * 0.3**k * 0.7 ** (10 - k) for k in range(3, 11))
    assert fill_probability(0, 3, [0.3] * 10) == pytest.approx(binomial)
    assert fill_probability(1, 2, [0.5, 0.5]) == pytest.approx(0.75)
    assert fill_probability(2, 2, []) == 1.0
    assert fill_probability(0, 1, []) == 0.0


def test_with_time_to_spare_a_wave_asks_a_few_and_waits() -> None:
    # Four rounds left: this wave's share of the 0.9 target is 1 - 0.1^(1/4) ≈ 0.44. A round
    # lasts until 80 % of the answers are in, so each person at 0.25 accepts within it with 0.2:
    # two give 0.36, three 0.488.
    decision = decide(playbook(), {Role.MEDIC: people(1, 50)}, response=INSTANT)
    assert decision.rounds_left == 4
    assert [o.volunteer_id for o in decision.offers] == [UUID(int=1), UUID(int=2), UUID(int=3)]
    assert decision.fill_probability[Role.MEDIC] == pytest.approx(1 - 0.8**3)


def test_as_the_deadline_nears_a_wave_asks_more_at_once() -> None:
    book = playbook(roles=((Role.SEARCHER, 4),), max_offers_per_role_per_wave=60)
    candidates = {Role.SEARCHER: people(1, 80)}

    def asked(elapsed_s: float) -> int:
        return len(decide(book, candidates, elapsed_s=elapsed_s, waves_sent=1).offers)

    early, middle, late = asked(0), asked(2_000), asked(2_600)
    assert early < middle < late
    # With one round left it asks for the whole target: P(4 of n accept in time) ≥ 0.9.
    last = decide(book, candidates, elapsed_s=2_600, waves_sent=1)
    assert last.rounds_left == 1
    assert last.fill_probability[Role.SEARCHER] >= 0.9


def test_a_critical_playbook_with_fewer_rounds_asks_more_at_once() -> None:
    candidates = {Role.SEARCHER: people(1, 80)}
    patient = playbook(roles=((Role.SEARCHER, 4),), pacing_rounds=8)
    hurried = playbook(roles=((Role.SEARCHER, 4),), pacing_rounds=2)
    kwargs = {"waves_sent": 1}
    assert len(decide(hurried, candidates, **kwargs).offers) > len(  # type: ignore[arg-type]
        decide(patient, candidates, **kwargs).offers  # type: ignore[arg-type]
    )


def test_nobody_is_asked_who_cannot_arrive_in_time() -> None:
    book = playbook(deadline_s=2_700, arrival_allowance_s=900)  # must be there within 60 min
    walker = person(1, eta_s=3_700)  # 62 minutes away: the nearest, but too slow
    driver = person(2, eta_s=1_500)
    decision = decide(book, {Role.MEDIC: [walker, driver, *people(3, 20)]})
    asked = {o.volunteer_id for o in decision.offers}
    assert walker.volunteer_id not in asked
    assert driver.volunteer_id in asked
    assert decision.too_late == {walker.volunteer_id}
    assert decision.latest_eta_s == 3_600
    # Half an hour in, the cut-off has moved: someone 40 minutes away is now too late too.
    later = decide(book, {Role.MEDIC: [person(30, eta_s=2_400)]}, elapsed_s=1_800)
    assert later.offers == ()
    assert later.latest_eta_s == 1_800


def test_the_first_wave_asks_at_most_three_per_place_and_thirty_in_all() -> None:
    book = playbook(
        roles=((Role.SEARCHER, 10), (Role.MEDIC, 4), (Role.LEADER, 1)),
        pacing_rounds=1,  # would ask for the whole target at once without the caps
    )
    candidates = {
        Role.SEARCHER: people(1, 100),
        Role.MEDIC: people(200, 100),
        Role.LEADER: people(400, 100),
    }
    first = decide(book, candidates)
    per_role = first.offers_per_role()
    assert len(first.offers) == 30
    assert per_role[Role.LEADER] == 3
    assert per_role[Role.MEDIC] <= 12
    assert per_role[Role.SEARCHER] <= 30
    # Later waves are not held to the first wave's caps.
    later = decide(book, candidates, waves_sent=1, offers_sent=30)
    assert len(later.offers) > 30


def test_the_incident_budget_caps_every_wave_and_is_reported() -> None:
    book = playbook(roles=((Role.SEARCHER, 4),), pacing_rounds=1)
    decision = decide(
        book, {Role.SEARCHER: people(1, 100)}, budget=40, offers_sent=35, waves_sent=3
    )
    assert len(decision.offers) == 5
    assert (decision.budget, decision.budget_left) == (40, 0)


def test_a_spent_budget_warns_the_dispatcher_with_that_cause() -> None:
    book = playbook(roles=((Role.SEARCHER, 4),))
    decision = decide(
        book, {Role.SEARCHER: people(1, 100)}, budget=40, offers_sent=40, waves_sent=5
    )
    assert decision.offers == ()
    assert decision.missing == {Role.SEARCHER: 4}
    assert decision.cause is Shortfall.BUDGET_SPENT


def test_nobody_more_is_asked_while_the_outstanding_offers_suffice() -> None:
    progress = {
        Role.MEDIC: RoleProgress(
            Role.MEDIC, needed=1, pending=(0.5,) * 4, asked=frozenset({UUID(int=99)})
        )
    }
    decision = decide(
        playbook(), {Role.MEDIC: people(1, 30)}, progress=progress, waves_sent=1, response=INSTANT
    )
    assert decision.offers == ()
    assert decision.short_roles == ()
    assert decision.replan_in_s == REPLAN_EVERY_S  # waiting on answers: look again soon


def test_declines_are_replaced_by_the_next_ranked() -> None:
    candidates = {Role.MEDIC: people(1, 30)}
    first = decide(playbook(), candidates, response=INSTANT)
    asked = frozenset(o.volunteer_id for o in first.offers)
    # Everyone of the first wave declined.
    after = RoleProgress(Role.MEDIC, needed=1, asked=asked)
    second = decide(
        playbook(), candidates, progress={Role.MEDIC: after}, waves_sent=1, response=INSTANT
    )
    assert second.offers
    assert {o.volunteer_id for o in second.offers}.isdisjoint(asked)
    assert second.offers[0].volunteer_id == UUID(int=len(asked) + 1)
    assert second.wave == 2


def test_an_unanswered_offer_is_replaced_before_it_lapses() -> None:
    book = playbook(offer_timeout_s=600, deadline_s=5_400, arrival_allowance_s=5_400)
    asked = frozenset({UUID(int=1)})

    def new_offers(elapsed_s: float) -> int:
        waiting = RoleProgress(
            Role.MEDIC, needed=1, pending=(Outstanding(0.6, elapsed_s),), asked=asked
        )
        return len(
            decide(
                book, {Role.MEDIC: people(2, 30)}, progress={Role.MEDIC: waiting}, waves_sent=1
            ).offers
        )

    # A likely volunteer (0.6), just asked: 0.48 to accept within the round, more than this
    # wave's share of the target, so nobody else is asked. Still silent after 7½ of the 10
    # minutes, they probably will not answer: ask others before the offer lapses.
    assert new_offers(0) == 0
    assert new_offers(450) > 0


def test_accepted_places_are_not_asked_for_again() -> None:
    done = {Role.MEDIC: RoleProgress(Role.MEDIC, needed=2, accepted=2)}
    decision = decide(
        playbook(roles=((Role.MEDIC, 2),)), {Role.MEDIC: people(1, 30)}, progress=done
    )
    assert decision.offers == ()
    assert decision.replan_in_s is None
    assert decision.expected_complete_in_s == 0.0


def test_a_volunteer_is_offered_one_role_where_they_are_scarcest() -> None:
    book = playbook(roles=((Role.MEDIC, 1), (Role.PSYCHOLOGIST, 1)), pacing_rounds=1)
    both = person(1)  # first in both rankings
    ranked = {Role.MEDIC: [both, *people(2, 30)], Role.PSYCHOLOGIST: [both, person(50)]}
    decision = decide(book, ranked)
    roles_of_both = [o.role for o in decision.offers if o.volunteer_id == both.volunteer_id]
    assert roles_of_both == [Role.PSYCHOLOGIST]
    assert len({o.volunteer_id for o in decision.offers}) == len(decision.offers)


def test_someone_asked_for_one_role_is_never_asked_for_another() -> None:
    book = playbook(roles=((Role.MEDIC, 1), (Role.SEARCHER, 1)))
    declined_as_medic = person(1)
    progress = {
        Role.MEDIC: RoleProgress(Role.MEDIC, needed=1, asked=frozenset({UUID(int=1)})),
        Role.SEARCHER: RoleProgress(Role.SEARCHER, needed=1, asked=frozenset({UUID(int=1)})),
    }
    ranked = {Role.MEDIC: people(2, 30), Role.SEARCHER: [declined_as_medic, *people(40, 30)]}
    decision = decide(book, ranked, progress=progress, waves_sent=1)
    assert declined_as_medic.volunteer_id not in {o.volunteer_id for o in decision.offers}


def test_a_role_short_of_people_in_the_radius_widens_it() -> None:
    book = playbook(roles=((Role.DOG_HANDLER, 1),), first_radius_m=10_000, max_radius_m=80_000)
    near = [person(1, distance_m=5_000)]
    far = [person(n, distance_m=30_000 + n, eta_s=2_000) for n in range(2, 12)]
    decision = decide(book, {Role.DOG_HANDLER: [*near, *far]})
    assert decision.radius_m == 40_000
    assert decision.short_roles == ()
    assert decision.offers[0].volunteer_id == UUID(int=1)
    assert any(o.distance_m > 10_000 for o in decision.offers)


def test_no_widening_when_nobody_is_further_out_and_then_a_warning() -> None:
    book = playbook(roles=((Role.DOG_HANDLER, 1),))
    decision = decide(book, {Role.DOG_HANDLER: [person(1, distance_m=5_000, p=0.2)]})
    assert decision.radius_m == book.first_radius_m
    assert decision.short_roles == (Role.DOG_HANDLER,)
    assert decision.missing == {Role.DOG_HANDLER: 1}
    assert decision.cause is Shortfall.TOO_FEW_PEOPLE


def test_radius_widens_until_the_largest_then_stops() -> None:
    book = playbook(first_radius_m=15_000, max_radius_m=100_000, radius_growth=2.0)
    radii = [book.first_radius_m]
    while (wider := next_radius(radii[-1], book)) is not None:
        radii.append(wider)
    assert radii == [15_000, 30_000, 60_000, 100_000]


def test_the_warning_comes_when_the_time_left_is_too_short_for_the_people_left() -> None:
    book = playbook(roles=((Role.WATER_RESCUER, 3),))
    progress = {
        Role.WATER_RESCUER: RoleProgress(
            Role.WATER_RESCUER, needed=3, accepted=1, pending=(0.3,), asked=frozenset()
        )
    }
    candidates = {Role.WATER_RESCUER: people(1, 50)}
    # Fifty people left to ask: enough with half an hour to go, not with half a minute, since
    # few answer that fast (median 90 s).
    assert decide(book, candidates, progress=progress, elapsed_s=900, waves_sent=1).missing is None
    late = decide(book, candidates, progress=progress, elapsed_s=2_670, waves_sent=1)
    assert late.missing == {Role.WATER_RESCUER: 2}
    assert late.cause is Shortfall.TOO_FEW_PEOPLE


def test_after_the_deadline_every_open_place_is_missing() -> None:
    book = playbook(roles=((Role.MEDIC, 2), (Role.LEADER, 1)))
    progress = {
        Role.MEDIC: RoleProgress(Role.MEDIC, needed=2, accepted=1, pending=(0.99,) * 5),
        Role.LEADER: RoleProgress(Role.LEADER, needed=1, accepted=1),
    }
    decision = decide(book, {}, progress=progress, elapsed_s=2_701, waves_sent=3)
    assert decision.missing == {Role.MEDIC: 1}
    assert decision.cause is Shortfall.DEADLINE_PASSED


def test_nobody_to_ask_means_looking_again_after_an_offer_timeout() -> None:
    decision = decide(playbook(), {Role.MEDIC: []})
    assert decision.offers == ()
    assert decision.replan_in_s == 180
    assert decision.expected_complete_in_s is None


def test_the_expected_time_to_a_complete_group_shrinks_with_likelier_people() -> None:
    book = playbook(roles=((Role.SEARCHER, 3),))

    def expected(p: float) -> float:
        estimate = decide(book, {Role.SEARCHER: people(1, 60, p=p)}).expected_complete_in_s
        assert estimate is not None
        return estimate

    assert expected(0.6) < expected(0.25) < expected(0.1)


def test_the_group_is_complete_when_every_role_is_filled() -> None:
    filling = {
        Role.MEDIC: RoleProgress(Role.MEDIC, needed=2, accepted=2),
        Role.LEADER: RoleProgress(Role.LEADER, needed=1, accepted=0, pending=(0.9,)),
    }
    assert not is_complete(filling)
    filling[Role.LEADER] = RoleProgress(Role.LEADER, needed=1, accepted=1)
    assert is_complete(filling)


def test_on_call_group_members_are_asked_first() -> None:
    nearby = [person(n) for n in range(1, 20)]
    on_call_medic = person(30, group_role=Role.MEDIC, on_call=True)
    off_call_medic = person(31, group_role=Role.MEDIC, on_call=False)
    on_call_driver = person(32, group_role=Role.DRIVER_4X4, on_call=True)
    ranked = [*nearby, on_call_medic, off_call_medic, on_call_driver]
    ordered = group_first(ranked, Role.MEDIC, region_codes={"KZ-39"})
    assert ordered[0] is on_call_medic
    assert ordered[1:] == [*nearby, off_call_medic, on_call_driver]
    decision = decide(playbook(), {Role.MEDIC: ordered})
    assert decision.offers[0].volunteer_id == on_call_medic.volunteer_id


def test_mutual_aid_comes_after_the_regions_own_volunteers() -> None:
    across_the_border = person(1, region="KZ-59")
    own = [person(n) for n in range(2, 6)]
    ordered = group_first([across_the_border, *own], Role.MEDIC, region_codes={"KZ-39"})
    assert ordered == [*own, across_the_border]
    both_regions = group_first(
        [across_the_border, *own], Role.MEDIC, region_codes={"KZ-39", "KZ-59"}
    )
    assert both_regions[0] is across_the_border


def test_silence_lowers_the_odds_of_an_outstanding_offer() -> None:
    response = ResponseModel()
    odds = [response.odds(0.25, elapsed_s=t, timeout_s=300) for t in (0, 60, 120, 240, 300)]
    assert odds == sorted(odds, reverse=True)
    assert odds[0] == pytest.approx(0.25 * response.answered_by(300))
    assert odds[-1] == 0.0


def test_a_round_lasts_until_most_answers_are_in() -> None:
    response = ResponseModel()
    assert response.answered_by(response.round_s()) == pytest.approx(0.8)
    assert ResponseModel(median_s=180).round_s() == pytest.approx(2 * response.round_s())


@pytest.mark.parametrize("response", [ResponseModel(), ResponseModel(median_s=60, sigma=1.1)])
def test_a_new_offers_odds_are_the_response_models_own(response: ResponseModel) -> None:
    """The wave's shortcut for offers not yet out gives what the answer model says, to the bit."""
    clock = _Clock(response, timeout_s=300)
    for p_accept in (0.0, 0.05, 0.22, 0.5, 1.0):
        for horizon_s in (-5.0, 0.0, 1.0, 90.0, 176.3, 300.0, 301.0, 3600.0):
            for _ in range(2):  # computed, then remembered
                assert clock.new(p_accept, horizon_s) == response.odds(
                    p_accept, horizon_s=horizon_s, timeout_s=300
                ), (p_accept, horizon_s)


def test_the_expected_time_is_the_first_horizon_by_which_filling_is_even_odds() -> None:
    # Checked against every horizon in turn, over offers of every age and likelihood.
    rng = random.Random(11)
    clock = _Clock(ResponseModel(), timeout_s=120)
    horizons = [h for h in _EXPECTED_WITHIN_S if h <= clock.timeout_s]
    found = 0
    for _ in range(400):
        places = rng.randint(1, 4)
        progress = RoleProgress(
            Role.MEDIC,
            needed=places,
            pending=tuple(
                Outstanding(rng.uniform(0.0, 0.7), elapsed_s=rng.uniform(0.0, 110.0))
                for _ in range(rng.randint(0, 6))
            ),
        )
        asked = people(1, rng.randint(0, 8), p=rng.uniform(0.02, 0.7))

        def even_odds(
            h: float, progress: RoleProgress = progress, asked: list[Ranked] = asked
        ) -> bool:
            return _even_odds_by(
                h,
                places=progress.needed,
                outstanding=progress.outstanding(),
                asked=asked,
                clock=clock,
            )

        first = next((float(h) for h in horizons if even_odds(h)), None)
        estimate = _expected_complete_s([progress], {Role.MEDIC: asked}, clock=clock, round_s=90.0)
        if first is not None:
            found += 1
            assert estimate == first
        else:  # as many rounds as the open places need
            assert estimate is None or estimate >= 90.0
    assert 50 < found < 350, "both outcomes were tried"
