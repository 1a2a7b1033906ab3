"""The shipped playbooks: complete, plausible, and refused loudly when broken."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from services.mobilizer.playbooks import (
    DEFAULT_PATH,
    SCHEMA_PATH,
    PlaybookError,
    Playbooks,
    json_schema,
    load_playbooks,
)
from shared.events.incidents import IncidentType, Priority
from shared.events.volunteers import CertificationType, Role, TransportMode


@pytest.fixture(scope="module")
def playbooks() -> Playbooks:
    return load_playbooks()


def group_size(playbooks: Playbooks, incident_type: IncidentType, priority: Priority) -> int:
    return sum(playbooks.for_incident(incident_type, priority).needed().values())


def write_broken(tmp_path: Path, change: str) -> Path:
    data = yaml.load(DEFAULT_PATH.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    if change == "missing_priority":
        del data["playbooks"]["flood"]["variants"]["low"]
    elif change == "first_radius_beyond_max":
        data["playbooks"]["mudflow"]["variants"]["high"]["first_radius_m"] = 999_999
    elif change == "unknown_role":
        data["playbooks"]["other"]["variants"]["low"]["roles"]["juggler"] = 1
    elif change == "missing_role_definition":
        del data["roles"]["dog_handler"]
    path = tmp_path / "playbooks.yaml"
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True), encoding="utf-8")
    return path


def test_every_incident_type_and_priority_has_a_playbook(playbooks: Playbooks) -> None:
    for incident_type in IncidentType:
        for priority in Priority:
            playbook = playbooks.for_incident(incident_type, priority)
            assert playbook.name == f"{incident_type.value}/{priority.value}"
            assert playbook.needed()


def test_lower_priority_needs_fewer_people_and_allows_more_time(playbooks: Playbooks) -> None:
    for incident_type in IncidentType:
        sizes = [group_size(playbooks, incident_type, p) for p in Priority]
        deadlines = [playbooks.for_incident(incident_type, p).deadline_s for p in Priority]
        assert sizes == sorted(sizes, reverse=True), incident_type
        assert deadlines == sorted(deadlines), incident_type
        assert sizes[0] > sizes[-1], incident_type


def test_spring_flood_brings_water_rescuers_4x4_drivers_and_boats(playbooks: Playbooks) -> None:
    flood = playbooks.for_incident(IncidentType.FLOOD, Priority.CRITICAL)
    assert flood.needed()[Role.WATER_RESCUER] >= 3
    assert flood.needed()[Role.DRIVER_4X4] >= 2
    assert "inflatable_boat" in flood.equipment
    assert "life_jackets" in flood.equipment


def test_blizzard_on_a_highway_needs_4x4_drivers_medics_and_a_psychologist(
    playbooks: Playbooks,
) -> None:
    needed = playbooks.for_incident(IncidentType.BLIZZARD, Priority.CRITICAL).needed()
    assert needed[Role.DRIVER_4X4] >= 4
    assert needed[Role.MEDIC] >= 2
    assert needed[Role.PSYCHOLOGIST] >= 1


def test_earthquake_and_collapse_bring_search_dogs_and_searchers(playbooks: Playbooks) -> None:
    for incident_type in (IncidentType.EARTHQUAKE, IncidentType.BUILDING_COLLAPSE):
        needed = playbooks.for_incident(incident_type, Priority.CRITICAL).needed()
        assert needed[Role.DOG_HANDLER] >= 1
        assert needed[Role.SEARCHER] >= 6


def test_missing_person_search_has_its_team(playbooks: Playbooks) -> None:
    needed = playbooks.for_incident(IncidentType.MISSING_PERSON, Priority.HIGH).needed()
    for role in (
        Role.LEADER,
        Role.SEARCHER,
        Role.DOG_HANDLER,
        Role.DRONE_PILOT,
        Role.RADIO_OPERATOR,
    ):
        assert needed.get(role, 0) >= 1, role


def test_wildfire_and_mudflow_need_their_specialists(playbooks: Playbooks) -> None:
    fire = playbooks.for_incident(IncidentType.WILDFIRE, Priority.CRITICAL).needed()
    mudflow = playbooks.for_incident(IncidentType.MUDFLOW, Priority.CRITICAL).needed()
    assert fire[Role.FIREFIGHTER] >= 4
    assert mudflow[Role.MOUNTAIN_RESCUER] >= 3


def test_a_4x4_driver_needs_the_certificate_and_an_offroad_vehicle(playbooks: Playbooks) -> None:
    driver = playbooks.roles[Role.DRIVER_4X4]
    assert driver.certifications == (CertificationType.OFFROAD_DRIVER,)
    assert driver.transport_modes == (TransportMode.OFFROAD,)
    assert driver.adult_only


def test_only_critical_and_high_incidents_override_quiet_hours(playbooks: Playbooks) -> None:
    for (_, priority), playbook in playbooks.table.items():
        assert playbook.urgent is (priority in (Priority.CRITICAL, Priority.HIGH))


def test_only_low_priority_other_work_takes_volunteers_under_18(playbooks: Playbooks) -> None:
    open_to_minors = [p.name for p in playbooks.table.values() if not p.adults_only]
    assert open_to_minors == ["other/low"]


def test_numbers_are_consistent_in_every_playbook(playbooks: Playbooks) -> None:
    for playbook in playbooks.table.values():
        assert playbook.first_radius_m <= playbook.max_radius_m
        assert playbook.offer_timeout_s * 3 <= playbook.deadline_s
        assert 0.5 <= playbook.target_fill_probability < 1
        largest_role = max(playbook.needed().values())
        assert playbook.max_offers_per_role_per_wave >= 4 * largest_role, playbook.name
        # A budget below the 1/p floor (about 4.5 offers per place) would starve the group.
        assert 6 <= playbook.offer_budget_per_place <= 20, playbook.name
        assert playbook.first_wave_max <= 30 and playbook.first_wave_per_place <= 3
        # Everyone asked can arrive within three times the deadline or sooner.
        assert 0 < playbook.arrival_allowance_s <= 2 * playbook.deadline_s, playbook.name


def test_more_urgent_groups_may_spend_more_offers_and_wait_less(playbooks: Playbooks) -> None:
    for incident_type in IncidentType:
        critical, low = (
            playbooks.for_incident(incident_type, p) for p in (Priority.CRITICAL, Priority.LOW)
        )
        assert critical.offer_budget_per_place >= low.offer_budget_per_place
        assert critical.pacing_rounds <= low.pacing_rounds


def test_shipped_json_schema_matches_the_models() -> None:
    shipped = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert shipped == json_schema(), "regenerate: python -m services.mobilizer.playbooks"
    assert set(shipped["properties"]["playbooks"]["required"]) == {t.value for t in IncidentType}
    assert set(shipped["properties"]["roles"]["required"]) == {r.value for r in Role}


@pytest.mark.parametrize(
    ("change", "fault"),
    [
        ("missing_priority", "playbooks.flood: Value error, no variant for priority low"),
        ("first_radius_beyond_max", "playbooks.mudflow.variants.high"),
        ("unknown_role", "juggler"),
        ("missing_role_definition", "dog_handler"),
    ],
    ids=["missing_priority", "first_radius_beyond_max", "unknown_role", "missing_role"],
)
def test_broken_file_fails_at_start_naming_the_fault(
    tmp_path: Path, change: str, fault: str
) -> None:
    path = write_broken(tmp_path, change)
    with pytest.raises(PlaybookError) as raised:
        load_playbooks(path)
    assert str(path) in str(raised.value)
    assert fault in str(raised.value)


def test_unreadable_or_malformed_file_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="cannot read"):
        load_playbooks(tmp_path / "absent.yaml")
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("roles: [unclosed\n", encoding="utf-8")
    with pytest.raises(PlaybookError, match="not valid YAML"):
        load_playbooks(malformed)


def test_the_offer_budget_is_per_place_of_the_group(playbooks: Playbooks) -> None:
    flood = playbooks.for_incident(IncidentType.FLOOD, Priority.HIGH)
    places = sum(flood.needed().values())
    assert flood.offer_budget() == math.ceil(flood.offer_budget_per_place * places)
    # A group resized to more places brings a bigger budget.
    assert flood.offer_budget(places + 5) > flood.offer_budget()
