"""The synthetic volunteer population and the standing mobile groups planned from it (pure)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import date

import numpy as np
import pytest
from shapely.geometry import Point

from services.api.seed.groups import (
    PILOT_REGION,
    ROLE_CERTIFICATION,
    STANDING_GROUP,
    CandidatePool,
    MobileGroupDraft,
    group_name,
    plan_mobile_groups,
)
from services.api.seed.population import VolunteerDraft, generate_volunteers, phone_for_index
from services.api.seed.training import FLOOD_PRONE_REGIONS, MOUNTAIN_REGIONS
from shared.events.volunteers import Availability, CertificationType
from shared.reference import Region, Settlement, load_regions, load_settlements, region_by_code

TODAY = date(2025, 11, 25)
POPULATION = 20_000
KAZAKH_MOBILE = re.compile(r"^\+7(70\d|74\d|77\d)\d{7}$")
EARTH_RADIUS_KM = 6371.0


@pytest.fixture(scope="module")
def settlements() -> tuple[Settlement, ...]:
    return load_settlements()


@pytest.fixture(scope="module")
def regions() -> tuple[Region, ...]:
    return load_regions()


@pytest.fixture(scope="module")
def volunteers(
    settlements: tuple[Settlement, ...], regions: tuple[Region, ...]
) -> list[VolunteerDraft]:
    return list(
        generate_volunteers(
            POPULATION, settlements=settlements, regions=regions, today=TODAY, seed=7
        )
    )


@pytest.fixture(scope="module")
def groups(volunteers: list[VolunteerDraft], regions: tuple[Region, ...]) -> list[MobileGroupDraft]:
    return plan_mobile_groups(volunteers, regions=regions, today=TODAY, seed=7)


def share(count: int, total: int) -> float:
    return count / total


# --- the population ---------------------------------------------------------------------------


def test_same_seed_gives_the_same_population(
    settlements: tuple[Settlement, ...], regions: tuple[Region, ...]
) -> None:
    def run(seed: int) -> list[VolunteerDraft]:
        return list(
            generate_volunteers(
                1_000, settlements=settlements, regions=regions, today=TODAY, seed=seed
            )
        )

    assert run(7) == run(7)
    assert {v.id for v in run(7)}.isdisjoint({v.id for v in run(8)})


def test_a_shorter_run_is_a_prefix_of_a_longer_one(
    settlements: tuple[Settlement, ...],
) -> None:
    shorter = list(generate_volunteers(10_000, settlements=settlements, today=TODAY, seed=3))
    longer = list(generate_volunteers(12_345, settlements=settlements, today=TODAY, seed=3))
    assert longer[:10_000] == shorter


def test_ids_are_unique_uuid4(volunteers: list[VolunteerDraft]) -> None:
    assert len({v.id for v in volunteers}) == POPULATION
    assert {v.id.version for v in volunteers} == {4}


def test_phone_numbers_are_unique_kazakh_mobiles_in_e164(volunteers: list[VolunteerDraft]) -> None:
    phones = [v.phone for v in volunteers]
    assert len(set(phones)) == POPULATION
    assert all(KAZAKH_MOBILE.match(phone) for phone in phones)
    assert phones[:3] == [phone_for_index(i, seed=7) for i in range(3)]


def test_phone_numbers_stay_unique_far_beyond_a_million() -> None:
    indices = range(0, 50_000_000, 97)
    assert len({phone_for_index(i, seed=7) for i in indices}) == len(indices)


def test_names_mix_kazakh_and_russian_traditions(volunteers: list[VolunteerDraft]) -> None:
    names = [v.full_name for v in volunteers]
    assert all(2 <= len(name.split()) <= 3 for name in names)
    kazakh_patronymic = sum(("ұлы" in n or "қызы" in n) for n in names)
    russian_patronymic = sum(bool(re.search(r"(вич|вна) ", n)) for n in names)
    assert share(kazakh_patronymic, POPULATION) > 0.3
    assert share(russian_patronymic, POPULATION) > 0.02
    assert len(set(names)) > POPULATION / 2


def test_ages_run_from_16_to_70_with_about_5_percent_minors(
    volunteers: list[VolunteerDraft],
) -> None:
    ages = [v.age_on(TODAY) for v in volunteers]
    assert min(ages) == 16
    assert max(ages) <= 70
    minors = sum(not v.is_adult_on(TODAY) for v in volunteers)
    assert 0.035 <= share(minors, POPULATION) <= 0.065


def test_most_volunteers_speak_kazakh_or_russian(volunteers: list[VolunteerDraft]) -> None:
    assert all(v.languages and set(v.languages) <= {"kk", "ru", "en"} for v in volunteers)
    assert all({"kk", "ru"} & set(v.languages) for v in volunteers)
    english = sum("en" in v.languages for v in volunteers)
    assert 0.08 <= share(english, POPULATION) <= 0.35


def test_availability_is_mostly_available(volunteers: list[VolunteerDraft]) -> None:
    counts = Counter(v.availability for v in volunteers)
    assert 0.82 <= share(counts[Availability.AVAILABLE], POPULATION) <= 0.88
    assert 0.09 <= share(counts[Availability.OFF_DUTY], POPULATION) <= 0.15
    assert 0.015 <= share(counts[Availability.INACTIVE], POPULATION) <= 0.045


def test_some_volunteers_keep_quiet_hours(volunteers: list[VolunteerDraft]) -> None:
    quiet = [v for v in volunteers if v.quiet_hours_start is not None]
    assert 0.2 <= share(len(quiet), POPULATION) <= 0.4
    assert all(v.quiet_hours_end is not None for v in quiet)


def test_homes_lie_within_60_km_of_a_settlement_of_their_region(
    volunteers: list[VolunteerDraft], settlements: tuple[Settlement, ...]
) -> None:
    codes = {s.region_code for s in settlements}
    assert {v.region_code for v in volunteers} <= codes
    home_lat = np.radians([v.home_lat for v in volunteers])[:, None]
    home_lon = np.radians([v.home_lon for v in volunteers])[:, None]
    place_lat = np.radians([s.latitude for s in settlements])[None, :]
    place_lon = np.radians([s.longitude for s in settlements])[None, :]
    haversine = (
        np.sin((place_lat - home_lat) / 2) ** 2
        + np.cos(home_lat) * np.cos(place_lat) * np.sin((place_lon - home_lon) / 2) ** 2
    )
    distance_km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(haversine))
    same_region = np.array([v.region_code for v in volunteers])[:, None] == np.array(
        [s.region_code for s in settlements]
    )
    nearest_of_region_km = np.where(same_region, distance_km, np.inf).min(axis=1)
    assert float(nearest_of_region_km.max()) <= 60.0


def test_homes_are_inside_their_region(volunteers: list[VolunteerDraft]) -> None:
    regions = region_by_code()
    inside = sum(
        regions[v.region_code].boundary.covers(Point(v.home_lon, v.home_lat)) for v in volunteers
    )
    assert share(inside, POPULATION) >= 0.99


def test_people_live_where_people_live(volunteers: list[VolunteerDraft]) -> None:
    by_region = Counter(v.region_code for v in volunteers)
    assert by_region["KZ-75"] > by_region["KZ-62"] * 3  # Almaty city ≫ Ulytau
    assert all(by_region[code] > 0 for code in region_by_code())


def test_rural_volunteers_drive_off_road_more_often(volunteers: list[VolunteerDraft]) -> None:
    def offroad_share(vs: Sequence[VolunteerDraft]) -> float:
        return share(sum(v.transport_mode == "offroad" for v in vs), len(vs))

    city = [v for v in volunteers if v.region_code in {"KZ-71", "KZ-75", "KZ-79"}]
    oblasts = [v for v in volunteers if v.region_code not in {"KZ-71", "KZ-75", "KZ-79"}]
    assert offroad_share(oblasts) > offroad_share(city) * 1.5


# --- certificates -----------------------------------------------------------------------------


def test_certificate_mix_is_realistic(volunteers: list[VolunteerDraft]) -> None:
    holders = Counter(t for v in volunteers for t in {c.type for c in v.certifications})
    expected = {
        CertificationType.FIRST_AID: 0.45,
        CertificationType.SEARCH_AND_RESCUE: 0.15,
        CertificationType.OFFROAD_DRIVER: 0.10,
        CertificationType.WATER_RESCUE: 0.06,
        CertificationType.DRONE_PILOT: 0.04,
        CertificationType.PSYCHOLOGIST: 0.03,
        CertificationType.RADIO_OPERATOR: 0.05,
        CertificationType.MOUNTAIN_RESCUE: 0.03,
        CertificationType.DOG_HANDLER: 0.01,
        CertificationType.FIREFIGHTING: 0.05,
        CertificationType.TEAM_LEADER: 0.04,
    }
    for certification, expected_share in expected.items():
        assert share(holders[certification], POPULATION) == pytest.approx(
            expected_share, rel=0.35
        ), certification


def test_hazards_shape_training_by_region(volunteers: list[VolunteerDraft]) -> None:
    def holding(certification: CertificationType, inside: bool, codes: frozenset[str]) -> float:
        vs = [v for v in volunteers if (v.region_code in codes) == inside]
        return share(
            sum(any(c.type == certification for c in v.certifications) for v in vs), len(vs)
        )

    water = CertificationType.WATER_RESCUE
    mountain = CertificationType.MOUNTAIN_RESCUE
    flood = FLOOD_PRONE_REGIONS
    assert holding(water, True, flood) > 1.6 * holding(water, False, flood)
    assert holding(mountain, True, MOUNTAIN_REGIONS) > 3 * holding(
        mountain, False, MOUNTAIN_REGIONS
    )


def test_between_10_and_20_percent_of_certificates_have_expired(
    volunteers: list[VolunteerDraft],
) -> None:
    certificates = [c for v in volunteers for c in v.certifications]
    expired = sum(not c.is_valid_on(TODAY) for c in certificates)
    assert 0.10 <= share(expired, len(certificates)) <= 0.20


def test_certificates_are_issued_to_people_old_enough_and_expire_after_issue(
    volunteers: list[VolunteerDraft],
) -> None:
    for v in volunteers:
        for c in v.certifications:
            assert c.issued_on <= TODAY < c.expires_on or c.expires_on <= TODAY
            assert c.expires_on > c.issued_on
            assert c.issued_on >= v.birth_date.replace(year=v.birth_date.year + 16)
            assert c.issuer
        if not v.is_adult_on(TODAY):
            adult_only = {
                CertificationType.OFFROAD_DRIVER,
                CertificationType.TEAM_LEADER,
                CertificationType.PSYCHOLOGIST,
                CertificationType.DRONE_PILOT,
            }
            assert not adult_only & {c.type for c in v.certifications}


def test_refuses_nonsense_arguments(settlements: tuple[Settlement, ...]) -> None:
    with pytest.raises(ValueError, match="count"):
        list(generate_volunteers(-1, settlements=settlements, today=TODAY))
    with pytest.raises(ValueError, match="seed"):
        list(generate_volunteers(1, settlements=settlements, today=TODAY, seed=-1))
    with pytest.raises(ValueError, match="settlements"):
        list(generate_volunteers(1, settlements=(), today=TODAY))


# --- standing mobile groups -------------------------------------------------------------------


def test_one_group_per_region_and_kostanay_is_the_pilot(
    groups: list[MobileGroupDraft], regions: tuple[Region, ...]
) -> None:
    assert sorted(g.region_code for g in groups) == sorted(r.code for r in regions)
    pilots = [g for g in groups if g.is_pilot]
    assert [g.region_code for g in pilots] == [PILOT_REGION] == ["KZ-39"]
    assert pilots[0].name == "Қостанай облысының мобильді ерікті тобы (пилот)"
    assert len({g.id for g in groups}) == len(groups)


def test_groups_are_named_in_kazakh(regions: tuple[Region, ...]) -> None:
    by_code = {r.code: r for r in regions}
    assert group_name(by_code["KZ-71"], is_pilot=False) == "Астана қаласының мобильді ерікті тобы"
    assert (
        group_name(by_code["KZ-59"], is_pilot=False)
        == "Солтүстік Қазақстан облысының мобильді ерікті тобы"
    )


def test_members_are_available_adults_of_the_region_with_a_valid_certificate_for_their_role(
    groups: list[MobileGroupDraft], volunteers: list[VolunteerDraft]
) -> None:
    by_id = {v.id: v for v in volunteers}
    for group in groups:
        for member in group.members:
            volunteer = by_id[member.volunteer_id]
            assert volunteer.region_code == group.region_code
            assert volunteer.is_adult_on(TODAY)
            assert volunteer.availability is Availability.AVAILABLE
            assert volunteer.holds_valid(ROLE_CERTIFICATION[member.role], TODAY)


def test_a_large_population_fills_every_seat_and_nobody_sits_twice(
    groups: list[MobileGroupDraft],
) -> None:
    seats = sum(count for _, count in STANDING_GROUP)
    for group in groups:
        assert group.unfilled() == {}, group.region_code
        assert len(group.members) == seats
        assert len({m.volunteer_id for m in group.members}) == seats
        assert Counter(m.role for m in group.members) == dict(STANDING_GROUP)


def test_about_80_percent_of_members_are_on_call(groups: list[MobileGroupDraft]) -> None:
    members = [m for g in groups for m in g.members]
    assert 0.68 <= share(sum(m.on_call for m in members), len(members)) <= 0.92


def test_a_small_population_fills_what_it_can(
    settlements: tuple[Settlement, ...], regions: tuple[Region, ...]
) -> None:
    few = list(generate_volunteers(400, settlements=settlements, regions=regions, today=TODAY))
    groups = plan_mobile_groups(few, regions=regions, today=TODAY, seed=1)
    assert len(groups) == len(regions)
    assert any(g.unfilled() for g in groups)
    by_id = {v.id: v for v in few}
    for group in groups:
        for member in group.members:
            assert by_id[member.volunteer_id].holds_valid(ROLE_CERTIFICATION[member.role], TODAY)


def test_a_candidate_pool_plans_the_same_groups_as_the_whole_population(
    volunteers: list[VolunteerDraft], groups: list[MobileGroupDraft], regions: tuple[Region, ...]
) -> None:
    pool = CandidatePool(today=TODAY)
    for volunteer in volunteers:
        pool.add(volunteer)
    kept = pool.volunteers()
    assert len(kept) < POPULATION / 4
    assert plan_mobile_groups(kept, regions=regions, today=TODAY, seed=7) == groups


def test_planning_is_deterministic_for_a_seed(
    volunteers: list[VolunteerDraft], groups: list[MobileGroupDraft], regions: tuple[Region, ...]
) -> None:
    assert plan_mobile_groups(volunteers, regions=regions, today=TODAY, seed=7) == groups
    other = plan_mobile_groups(volunteers, regions=regions, today=TODAY, seed=8)
    assert {g.id for g in other}.isdisjoint({g.id for g in groups})
