"""Eligibility: who may be asked for which role, with every reason when not."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.mobilizer import messages
from services.mobilizer.eligibility import (
    Candidate,
    Certificate,
    FatigueRules,
    Finding,
    Reason,
    Verdict,
    assess,
    roles_for,
)
from services.mobilizer.playbooks import Playbook, Playbooks, load_playbooks
from shared.events.incidents import IncidentType, Priority
from shared.events.volunteers import Availability, CertificationType, Role, TransportMode
from shared.i18n import ROLE_NAMES
from shared.reference import KAZAKHSTAN_TZ

NOW = datetime(2026, 4, 2, 14, 0, tzinfo=KAZAKHSTAN_TZ)
INCIDENT = UUID("00000000-0000-4000-8000-000000000001")
RULES = FatigueRules()


@pytest.fixture(scope="module")
def playbooks() -> Playbooks:
    return load_playbooks()


@pytest.fixture(scope="module")
def flood(playbooks: Playbooks) -> Playbook:
    return playbooks.for_incident(IncidentType.FLOOD, Priority.CRITICAL)


def certificate(
    kind: CertificationType, *, issued: date = date(2025, 1, 10), expires: date = date(2027, 1, 10)
) -> Certificate:
    return Certificate(type=kind, issued_on=issued, expires_on=expires)


def volunteer(**overrides: Any) -> Candidate:
    values: dict[str, Any] = {
        "volunteer_id": uuid4(),
        "birth_date": date(1990, 5, 17),
        "availability": Availability.AVAILABLE,
        "transport_mode": TransportMode.CAR,
        "home_lon": 63.62,
        "home_lat": 53.21,
        "region_code": "KZ-39",
        "phone": "+77011234567",
        "languages": ("kk", "ru"),
        "certificates": (certificate(CertificationType.FIRST_AID),),
    }
    values.update(overrides)
    return Candidate(**values)


def check(
    candidate: Candidate,
    role: Role,
    playbook: Playbook,
    playbooks: Playbooks,
    *,
    now: datetime = NOW,
    rules: FatigueRules = RULES,
) -> Verdict:
    return assess(
        candidate,
        role,
        playbook=playbook,
        roles=playbooks.roles,
        now=now,
        incident_id=INCIDENT,
        rules=rules,
    )


def test_valid_first_aid_certificate_makes_an_available_adult_a_medic(
    flood: Playbook, playbooks: Playbooks
) -> None:
    verdict = check(volunteer(), Role.MEDIC, flood, playbooks)
    assert verdict == Verdict(eligible=True)


def test_expired_first_aid_certificate_does_not_make_a_medic(
    flood: Playbook, playbooks: Playbooks
) -> None:
    expired = certificate(
        CertificationType.FIRST_AID, issued=date(2024, 3, 1), expires=date(2026, 3, 1)
    )
    verdict = check(volunteer(certificates=(expired,)), Role.MEDIC, flood, playbooks)
    assert not verdict.eligible
    assert verdict.findings == (
        Finding(
            reason=Reason.CERTIFICATE_EXPIRED,
            role=Role.MEDIC,
            certification=CertificationType.FIRST_AID,
            on=date(2026, 3, 1),
        ),
    )


def test_a_certificate_counts_from_its_issue_day_up_to_its_expiry_day_in_local_time(
    flood: Playbook, playbooks: Playbooks
) -> None:
    ends_on_the_2nd = certificate(
        CertificationType.FIRST_AID, issued=date(2024, 4, 2), expires=date(2026, 4, 2)
    )
    medic = volunteer(certificates=(ends_on_the_2nd,))
    # 19:30 UTC on the 1st is already 00:30 on the 2nd in Kazakhstan.
    late_on_the_1st_utc = datetime(2026, 4, 1, 19, 30, tzinfo=UTC)
    assert check(medic, Role.MEDIC, flood, playbooks, now=NOW - timedelta(days=1)).eligible
    assert not check(medic, Role.MEDIC, flood, playbooks, now=late_on_the_1st_utc).eligible
    starts_today = certificate(
        CertificationType.FIRST_AID, issued=date(2026, 4, 2), expires=date(2028, 4, 2)
    )
    assert check(volunteer(certificates=(starts_today,)), Role.MEDIC, flood, playbooks).eligible


def test_certificate_issued_later_is_not_yet_valid(flood: Playbook, playbooks: Playbooks) -> None:
    future = certificate(
        CertificationType.FIRST_AID, issued=date(2026, 5, 1), expires=date(2028, 5, 1)
    )
    verdict = check(volunteer(certificates=(future,)), Role.MEDIC, flood, playbooks)
    assert verdict.reasons == (Reason.CERTIFICATE_NOT_YET_VALID,)
    assert verdict.findings[0].on == date(2026, 5, 1)


def test_no_certificate_for_the_role_is_said_as_such(flood: Playbook, playbooks: Playbooks) -> None:
    verdict = check(volunteer(), Role.WATER_RESCUER, flood, playbooks)
    assert verdict.reasons == (Reason.NO_VALID_CERTIFICATE,)


def test_a_mountain_rescuer_can_search(flood: Playbook, playbooks: Playbooks) -> None:
    climber = volunteer(certificates=(certificate(CertificationType.MOUNTAIN_RESCUE),))
    assert check(climber, Role.SEARCHER, flood, playbooks).eligible


def test_offroad_certificate_without_an_offroad_vehicle_is_not_a_4x4_driver(
    flood: Playbook, playbooks: Playbooks
) -> None:
    licence = (certificate(CertificationType.OFFROAD_DRIVER),)
    in_a_city_car = volunteer(certificates=licence, transport_mode=TransportMode.CAR)
    with_a_4x4 = volunteer(certificates=licence, transport_mode=TransportMode.OFFROAD)
    verdict = check(in_a_city_car, Role.DRIVER_4X4, flood, playbooks)
    assert verdict.reasons == (Reason.UNSUITABLE_TRANSPORT,)
    assert verdict.findings[0].transport_mode is TransportMode.CAR
    assert check(with_a_4x4, Role.DRIVER_4X4, flood, playbooks).eligible


def test_a_17_year_old_medic_joins_low_priority_support_but_no_emergency(
    flood: Playbook, playbooks: Playbooks
) -> None:
    teenager = volunteer(birth_date=date(2008, 9, 1))
    verdict = check(teenager, Role.MEDIC, flood, playbooks)
    assert verdict.reasons == (Reason.MINOR,)
    assert verdict.findings[0].age_years == 17
    support = playbooks.for_incident(IncidentType.OTHER, Priority.LOW)
    assert check(teenager, Role.MEDIC, support, playbooks).eligible


def test_adult_only_roles_stay_adult_only_in_low_priority_work(playbooks: Playbooks) -> None:
    support = playbooks.for_incident(IncidentType.OTHER, Priority.LOW)
    teenage_leader = volunteer(
        birth_date=date(2008, 9, 1), certificates=(certificate(CertificationType.TEAM_LEADER),)
    )
    assert check(teenage_leader, Role.LEADER, support, playbooks).reasons == (Reason.MINOR,)


def test_eighteenth_birthday_counts_on_the_day(flood: Playbook, playbooks: Playbooks) -> None:
    turns_18_today = volunteer(birth_date=date(2008, 4, 2))
    assert check(turns_18_today, Role.MEDIC, flood, playbooks).eligible


@pytest.mark.parametrize(
    ("availability", "reason"),
    [(Availability.OFF_DUTY, Reason.OFF_DUTY), (Availability.INACTIVE, Reason.INACTIVE)],
)
def test_off_duty_and_inactive_volunteers_are_not_asked(
    flood: Playbook, playbooks: Playbooks, availability: Availability, reason: Reason
) -> None:
    verdict = check(volunteer(availability=availability), Role.MEDIC, flood, playbooks)
    assert verdict.reasons == (reason,)


def test_quiet_hours_across_midnight_hold_back_non_urgent_offers(playbooks: Playbooks) -> None:
    sandbagging = playbooks.for_incident(IncidentType.FLOOD, Priority.LOW)
    sleeper = volunteer(quiet_hours_start=time(22, 0), quiet_hours_end=time(7, 0))
    night = datetime(2026, 4, 2, 23, 15, tzinfo=KAZAKHSTAN_TZ)
    early = datetime(2026, 4, 3, 6, 59, tzinfo=KAZAKHSTAN_TZ)
    morning = datetime(2026, 4, 3, 7, 0, tzinfo=KAZAKHSTAN_TZ)
    verdict = check(sleeper, Role.MEDIC, sandbagging, playbooks, now=night)
    assert verdict.reasons == (Reason.QUIET_HOURS,)
    assert verdict.findings[0].until == datetime(2026, 4, 3, 7, 0, tzinfo=KAZAKHSTAN_TZ)
    assert not check(sleeper, Role.MEDIC, sandbagging, playbooks, now=early).eligible
    assert check(sleeper, Role.MEDIC, sandbagging, playbooks, now=morning).eligible


def test_quiet_hours_within_one_day(playbooks: Playbooks) -> None:
    sandbagging = playbooks.for_incident(IncidentType.FLOOD, Priority.LOW)
    napper = volunteer(quiet_hours_start=time(13, 0), quiet_hours_end=time(15, 0))
    assert check(napper, Role.MEDIC, sandbagging, playbooks).reasons == (Reason.QUIET_HOURS,)
    later = NOW + timedelta(hours=1)
    assert check(napper, Role.MEDIC, sandbagging, playbooks, now=later).eligible


def test_quiet_hours_are_ignored_for_urgent_incidents(
    flood: Playbook, playbooks: Playbooks
) -> None:
    sleeper = volunteer(quiet_hours_start=time(22, 0), quiet_hours_end=time(7, 0))
    night = datetime(2026, 4, 2, 2, 0, tzinfo=KAZAKHSTAN_TZ)
    assert flood.urgent
    assert check(sleeper, Role.MEDIC, flood, playbooks, now=night).eligible


def test_committed_to_another_incident_is_not_asked(flood: Playbook, playbooks: Playbooks) -> None:
    busy = volunteer(committed_incident_id=uuid4())
    here = volunteer(committed_incident_id=INCIDENT)
    assert check(busy, Role.MEDIC, flood, playbooks).reasons == (Reason.COMMITTED_ELSEWHERE,)
    assert check(here, Role.MEDIC, flood, playbooks).reasons == (Reason.ALREADY_IN_THIS_GROUP,)


def test_call_out_limits_per_day_and_week(flood: Playbook, playbooks: Playbooks) -> None:
    tired = volunteer(callouts_24h=2, callouts_7d=5)
    verdict = check(tired, Role.MEDIC, flood, playbooks)
    assert verdict.reasons == (Reason.TOO_MANY_CALLOUTS_TODAY, Reason.TOO_MANY_CALLOUTS_THIS_WEEK)
    assert (verdict.findings[0].count, verdict.findings[0].limit) == (2, 2)
    assert check(volunteer(callouts_24h=1, callouts_7d=4), Role.MEDIC, flood, playbooks).eligible


def test_offers_count_towards_fatigue_whatever_became_of_them(
    flood: Playbook, playbooks: Playbooks
) -> None:
    # Asked three times today and declined or ignored every one: never accepted, still rested.
    asked_all_day = volunteer(offers_24h=3, offers_7d=3)
    verdict = check(asked_all_day, Role.MEDIC, flood, playbooks)
    assert verdict.reasons == (Reason.TOO_MANY_OFFERS_TODAY,)
    assert (verdict.findings[0].count, verdict.findings[0].limit) == (3, 3)
    asked_all_week = volunteer(offers_24h=1, offers_7d=5)
    assert check(asked_all_week, Role.MEDIC, flood, playbooks).reasons == (
        Reason.TOO_MANY_OFFERS_THIS_WEEK,
    )
    assert check(volunteer(offers_24h=2, offers_7d=4), Role.MEDIC, flood, playbooks).eligible
    lenient = FatigueRules(max_offers_per_day=10, max_offers_per_week=20)
    assert check(asked_all_week, Role.MEDIC, flood, playbooks, rules=lenient).eligible


def test_fatigue_limits_are_configurable(flood: Playbook, playbooks: Playbooks) -> None:
    lenient = FatigueRules(max_callouts_per_day=3, max_callouts_per_week=8)
    busy_week = volunteer(callouts_24h=2, callouts_7d=6)
    assert check(busy_week, Role.MEDIC, flood, playbooks, rules=lenient).eligible


def test_rest_after_a_long_deployment(flood: Playbook, playbooks: Playbooks) -> None:
    ended = NOW - timedelta(hours=5)
    after_long = volunteer(last_deployment_ended_at=ended, last_deployment_hours=10.0)
    after_short = volunteer(last_deployment_ended_at=ended, last_deployment_hours=3.0)
    verdict = check(after_long, Role.MEDIC, flood, playbooks)
    assert verdict.reasons == (Reason.RESTING_AFTER_DEPLOYMENT,)
    assert verdict.findings[0].until == ended + timedelta(hours=12)
    assert check(after_short, Role.MEDIC, flood, playbooks).eligible
    rested = NOW + timedelta(hours=7, minutes=1)
    assert check(after_long, Role.MEDIC, flood, playbooks, now=rested).eligible


def test_every_reason_is_reported_not_only_the_first(playbooks: Playbooks) -> None:
    sandbagging = playbooks.for_incident(IncidentType.FLOOD, Priority.LOW)
    everything_wrong = volunteer(
        birth_date=date(2009, 1, 1),
        availability=Availability.OFF_DUTY,
        quiet_hours_start=time(12, 0),
        quiet_hours_end=time(16, 0),
        committed_incident_id=uuid4(),
        callouts_24h=3,
        certificates=(),
    )
    assert set(check(everything_wrong, Role.MEDIC, sandbagging, playbooks).reasons) == {
        Reason.OFF_DUTY,
        Reason.QUIET_HOURS,
        Reason.COMMITTED_ELSEWHERE,
        Reason.TOO_MANY_CALLOUTS_TODAY,
        Reason.MINOR,
        Reason.NO_VALID_CERTIFICATE,
    }


def test_roles_for_lists_the_roles_a_volunteer_can_fill_in_playbook_order(
    flood: Playbook, playbooks: Playbooks
) -> None:
    versatile = volunteer(
        transport_mode=TransportMode.OFFROAD,
        certificates=(
            certificate(CertificationType.OFFROAD_DRIVER),
            certificate(CertificationType.FIRST_AID),
            certificate(CertificationType.WATER_RESCUE),
        ),
    )
    args: dict[str, Any] = {
        "playbook": flood,
        "roles": playbooks.roles,
        "now": NOW,
        "incident_id": INCIDENT,
        "rules": RULES,
    }
    assert roles_for(versatile, **args) == (Role.WATER_RESCUER, Role.DRIVER_4X4, Role.MEDIC)
    off_duty = dataclasses.replace(versatile, availability=Availability.OFF_DUTY)
    assert roles_for(off_duty, **args) == ()


def test_every_reason_has_kazakh_russian_and_english_text() -> None:
    for reason in Reason:
        assert list(messages.REASONS[reason]) == ["kk", "ru", "en"], reason
    for role in Role:
        assert [messages.role_name(role, lang) for lang in ("kk", "ru", "en")] == list(
            ROLE_NAMES[role.value].values()
        ), role
    for kind in CertificationType:
        assert all(messages.CERTIFICATIONS[kind].values()), kind


def test_reason_texts_carry_the_details(flood: Playbook, playbooks: Playbooks) -> None:
    expired = certificate(
        CertificationType.FIRST_AID, issued=date(2024, 3, 1), expires=date(2026, 3, 1)
    )
    finding = check(volunteer(certificates=(expired,)), Role.MEDIC, flood, playbooks).findings[0]
    assert messages.describe(finding, "en") == "“First aid” certificate expired on 2026-03-01"
    assert "2026-03-01" in messages.describe(finding, "ru")
    assert messages.describe(finding, "kk") == messages.describe(finding, "de")


def test_language_is_the_first_one_jedel_speaks() -> None:
    assert volunteer(languages=("ru", "kk")).language == "ru"
    assert volunteer(languages=("uz", "en")).language == "en"
    assert volunteer(languages=()).language == "kk"


def test_roles_for_agrees_with_assess(playbooks: Playbooks) -> None:
    certificate_sets = [
        (),
        (certificate(CertificationType.FIRST_AID),),
        (
            certificate(
                CertificationType.FIRST_AID, issued=date(2023, 1, 1), expires=date(2025, 1, 1)
            ),
        ),
        (certificate(CertificationType.OFFROAD_DRIVER), certificate(CertificationType.TEAM_LEADER)),
        (
            certificate(CertificationType.MOUNTAIN_RESCUE),
            certificate(CertificationType.DOG_HANDLER),
        ),
    ]
    for incident_type, priority, birth, mode, certificates in itertools.product(
        (IncidentType.FLOOD, IncidentType.OTHER, IncidentType.MUDFLOW),
        (Priority.CRITICAL, Priority.LOW),
        (date(2009, 1, 1), date(1985, 1, 1)),
        tuple(TransportMode),
        certificate_sets,
    ):
        playbook = playbooks.for_incident(incident_type, priority)
        someone = volunteer(birth_date=birth, transport_mode=mode, certificates=certificates)
        expected = tuple(
            role for role, _ in playbook.roles if check(someone, role, playbook, playbooks).eligible
        )
        assert (
            roles_for(
                someone,
                playbook=playbook,
                roles=playbooks.roles,
                now=NOW,
                incident_id=INCIDENT,
                rules=RULES,
            )
            == expected
        )
