"""Explanations: why each volunteer was or was not asked, in kk, ru and en."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from uuid import UUID

import pytest

from services.mobilizer.eligibility import (
    Candidate,
    Certificate,
    FatigueRules,
    Finding,
    Reason,
    Verdict,
    assess,
)
from services.mobilizer.explain import Explanation, Offered, Outcome, Placement, explain
from services.mobilizer.playbooks import Playbooks, load_playbooks
from shared.events.incidents import IncidentType, Priority
from shared.events.volunteers import Availability, CertificationType, Role, TransportMode
from shared.reference import KAZAKHSTAN_TZ

VOLUNTEER = UUID("00000000-0000-4000-8000-00000000000a")
INCIDENT = UUID("00000000-0000-4000-8000-000000000001")
ELIGIBLE = Verdict(eligible=True)
UNCERTIFIED = Verdict(
    eligible=False,
    findings=(Finding(reason=Reason.NO_VALID_CERTIFICATE, role=Role.SEARCHER),),
)


def asked_in_wave_2() -> Explanation:
    return explain(
        VOLUNTEER,
        offer=Offered(role=Role.MEDIC, wave=2, eta_s=754, p_accept=0.312),
        verdicts={Role.MEDIC: ELIGIBLE},
        placements={},
        distance_m=4_200,
        radius_m=15_000,
    )


def outside_the_radius() -> Explanation:
    return explain(
        VOLUNTEER,
        offer=None,
        verdicts={Role.MEDIC: ELIGIBLE, Role.SEARCHER: UNCERTIFIED},
        placements={},
        distance_m=42_300,
        radius_m=30_000,
    )


def too_far_to_arrive_in_time() -> Explanation:
    return explain(
        VOLUNTEER,
        offer=None,
        verdicts={Role.MEDIC: ELIGIBLE},
        placements={Role.MEDIC: Placement(rank=1, asked_count=3)},
        distance_m=9_000,
        radius_m=15_000,
        late=(11_400, 5_400),
    )


def ranked_below_the_asked() -> Explanation:
    return explain(
        VOLUNTEER,
        offer=None,
        verdicts={Role.MEDIC: ELIGIBLE, Role.SEARCHER: ELIGIBLE},
        placements={
            Role.MEDIC: Placement(rank=40, asked_count=12),
            Role.SEARCHER: Placement(rank=20, asked_count=15),
        },
        distance_m=8_000,
        radius_m=15_000,
    )


def test_an_asked_volunteer_sees_wave_role_eta_and_acceptance_estimate() -> None:
    explanation = asked_in_wave_2()
    assert explanation.outcome is Outcome.ASKED
    assert explanation.lines("en") == (
        "Asked in wave 2 as medic: arrives in ~13 min, 31 % likely to accept",
    )
    assert explanation.lines("ru") == (
        "Приглашён в 2-й волне на роль «медик»: прибытие ~13 мин, вероятность согласия 31 %",
    )
    assert "2-толқында" in explanation.render("kk")


def test_an_ineligible_volunteer_gets_every_reason() -> None:
    busy = Finding(reason=Reason.COMMITTED_ELSEWHERE)
    expired = Finding(
        reason=Reason.CERTIFICATE_EXPIRED,
        role=Role.MEDIC,
        certification=CertificationType.FIRST_AID,
        on=date(2026, 3, 1),
    )
    explanation = explain(
        VOLUNTEER,
        offer=None,
        verdicts={
            Role.MEDIC: Verdict(eligible=False, findings=(busy, expired)),
            Role.SEARCHER: Verdict(
                eligible=False,
                findings=(busy, Finding(reason=Reason.NO_VALID_CERTIFICATE, role=Role.SEARCHER)),
            ),
        },
        placements={},
        distance_m=4_200,
        radius_m=15_000,
    )
    assert explanation.outcome is Outcome.NOT_ELIGIBLE
    assert explanation.lines("en") == (
        "Not asked",
        "Already committed to another incident",
        "“First aid” certificate expired on 2026-03-01",
        "No valid certificate for any role this incident needs (searcher)",
    )


def test_no_certificate_for_any_role_is_said_once_naming_the_roles() -> None:
    explanation = explain(
        VOLUNTEER,
        offer=None,
        verdicts={
            role: Verdict(
                eligible=False, findings=(Finding(reason=Reason.NO_VALID_CERTIFICATE, role=role),)
            )
            for role in (Role.LEADER, Role.DOG_HANDLER)
        },
        placements={},
        distance_m=1_000,
        radius_m=15_000,
    )
    assert explanation.lines("ru") == (
        "Не приглашён",
        "Нет действующего удостоверения ни для одной нужной роли (руководитель группы, кинолог)",
    )


def test_an_eligible_volunteer_outside_the_radius_is_told_the_distance() -> None:
    explanation = outside_the_radius()
    assert explanation.outcome is Outcome.OUTSIDE_RADIUS
    assert explanation.lines("en") == (
        "Eligible, but outside the radius: 42.3 km away, radius 30.0 km",
    )


def test_an_eligible_volunteer_who_could_not_arrive_in_time_is_told_both_times() -> None:
    explanation = too_far_to_arrive_in_time()
    assert explanation.outcome is Outcome.TOO_LATE
    assert explanation.lines("en") == (
        "Eligible, but could not arrive in time: ~190 min away, and only people arriving "
        "within 90 min are asked",
    )
    assert "190" in explanation.lines("kk")[0] and "90" in explanation.lines("ru")[0]


def test_an_eligible_volunteer_ranked_below_the_asked_is_told_their_place() -> None:
    explanation = ranked_below_the_asked()
    assert explanation.outcome is Outcome.RANKED_BELOW
    assert explanation.role is Role.SEARCHER
    assert explanation.lines("en") == ("Eligible, but ranked 20 for searcher, below the 15 asked",)


def test_kazakh_is_the_default_and_the_fallback_language() -> None:
    explanation = explain(
        VOLUNTEER,
        offer=None,
        verdicts={Role.MEDIC: ELIGIBLE},
        placements={},
        distance_m=42_300,
        radius_m=30_000,
    )
    assert explanation.render() == explanation.render("kk") == explanation.render("fr")
    assert explanation.render("kk").startswith("Жарамды")


@pytest.fixture(scope="module")
def playbooks() -> Playbooks:
    return load_playbooks()


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_real_verdicts_explain_in_every_language(language: str, playbooks: Playbooks) -> None:
    sandbagging = playbooks.for_incident(IncidentType.FLOOD, Priority.LOW)
    night = datetime(2026, 4, 2, 23, 30, tzinfo=KAZAKHSTAN_TZ)
    sleeper = Candidate(
        volunteer_id=VOLUNTEER,
        birth_date=date(1990, 1, 1),
        availability=Availability.AVAILABLE,
        transport_mode=TransportMode.FOOT,
        home_lon=63.6,
        home_lat=53.2,
        region_code="KZ-39",
        phone="+77011234567",
        quiet_hours_start=time(22, 0),
        quiet_hours_end=time(7, 0),
        certificates=(
            Certificate(CertificationType.FIRST_AID, date(2025, 1, 1), date(2027, 1, 1)),
        ),
    )
    verdicts = {
        role: assess(
            sleeper,
            role,
            playbook=sandbagging,
            roles=playbooks.roles,
            now=night,
            incident_id=INCIDENT,
            rules=FatigueRules(),
        )
        for role, _ in sandbagging.roles
    }
    explanation = explain(
        VOLUNTEER, offer=None, verdicts=verdicts, placements={}, distance_m=900, radius_m=25_000
    )
    lines = explanation.lines(language)
    assert explanation.outcome is Outcome.NOT_ELIGIBLE
    assert any("2026-04-03 07:00" in line for line in lines)
    assert len(lines) == 3  # heading, quiet hours, no certificate for the other roles


def stored_and_read_back(explanation: Explanation, *, wave: int = 1) -> Explanation:
    """What the explanations table keeps, through JSON as PostgreSQL would, read back."""
    facts = json.loads(json.dumps(explanation.stored()))
    facts.pop("reasons")
    return Explanation.from_stored(explanation.volunteer_id, wave=wave, **facts)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_an_explanation_kept_as_facts_reads_back_word_for_word(language: str) -> None:
    """Explanations are stored as facts and rendered when read: nothing may be lost on the way."""
    resting = Finding(
        reason=Reason.RESTING_AFTER_DEPLOYMENT,
        until=datetime(2026, 4, 3, 7, 0, tzinfo=KAZAKHSTAN_TZ),
    )
    findings = (
        resting,
        Finding(reason=Reason.MINOR, role=Role.WATER_RESCUER, age_years=17),
        Finding(
            reason=Reason.CERTIFICATE_EXPIRED,
            role=Role.MEDIC,
            certification=CertificationType.FIRST_AID,
            on=date(2026, 3, 1),
        ),
        Finding(reason=Reason.TOO_MANY_CALLOUTS_TODAY, count=2, limit=2),
        Finding(
            reason=Reason.UNSUITABLE_TRANSPORT,
            role=Role.DRIVER_4X4,
            transport_mode=TransportMode.FOOT,
        ),
        Finding(reason=Reason.NO_VALID_CERTIFICATE, role=Role.SEARCHER),
    )
    not_eligible = explain(
        VOLUNTEER,
        offer=None,
        verdicts={Role.MEDIC: Verdict(eligible=False, findings=findings)},
        placements={},
        distance_m=900,
        radius_m=25_000,
    )
    explanations = [
        asked_in_wave_2(),
        not_eligible,
        outside_the_radius(),
        too_far_to_arrive_in_time(),
        ranked_below_the_asked(),
    ]
    for explanation in explanations:
        read_back = stored_and_read_back(explanation, wave=explanation.wave or 1)
        assert read_back.lines(language) == explanation.lines(language)
        assert read_back.outcome is explanation.outcome
    assert stored_and_read_back(not_eligible).findings == findings
