"""Reading a candidate row: every column lands in the field of the same meaning."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from uuid import uuid4

from services.mobilizer.candidates import candidate_from
from services.mobilizer.eligibility import Certificate
from shared.events.volunteers import Availability, CertificationType, Role, TransportMode


def test_a_row_becomes_the_candidate_it_describes() -> None:
    """`candidate_from` builds positionally (for speed): a reordered field must not go unseen."""
    volunteer, incident = uuid4(), uuid4()
    ended = datetime(2026, 3, 30, 18, 0, tzinfo=UTC)
    row = {
        "id": volunteer,
        "birth_date": date(1991, 2, 3),
        "availability": "off_duty",
        "transport_mode": "offroad",
        "lon": 63.6,
        "lat": 53.2,
        "region_code": "KZ-39",
        "phone": "+77011234567",
        "languages": ["ru", "kk"],
        "quiet_hours_start": time(23, 0),
        "quiet_hours_end": time(7, 0),
        "certificate_types": ["first_aid", "team_leader"],
        "certificates_issued": [date(2025, 1, 1), date(2024, 6, 1)],
        "certificates_expire": [date(2027, 1, 1), date(2026, 6, 1)],
        "group_role": "leader",
        "on_call": True,
        "committed_incident_id": incident,
        "callouts_24h": 1,
        "callouts_7d": 3,
        "offers_24h": 2,
        "offers_7d": 4,
        "last_deployment_ended_at": ended,
        "last_deployment_hours": 9.5,
        "offers_total": 12,
        "accepts_total": 4,
    }

    candidate = candidate_from(row)

    assert (candidate.volunteer_id, candidate.birth_date) == (volunteer, date(1991, 2, 3))
    assert candidate.availability is Availability.OFF_DUTY
    assert candidate.transport_mode is TransportMode.OFFROAD
    assert (candidate.home_lon, candidate.home_lat) == (63.6, 53.2)
    assert (candidate.region_code, candidate.phone) == ("KZ-39", "+77011234567")
    assert candidate.languages == ("ru", "kk")
    assert (candidate.quiet_hours_start, candidate.quiet_hours_end) == (time(23, 0), time(7, 0))
    assert (candidate.live_lon, candidate.live_lat, candidate.live_at) == (None, None, None)
    assert candidate.certificates == (
        Certificate(CertificationType.FIRST_AID, date(2025, 1, 1), date(2027, 1, 1)),
        Certificate(CertificationType.TEAM_LEADER, date(2024, 6, 1), date(2026, 6, 1)),
    )
    assert (candidate.group_role, candidate.on_call) == (Role.LEADER, True)
    assert candidate.committed_incident_id == incident
    assert (candidate.callouts_24h, candidate.callouts_7d) == (1, 3)
    assert (candidate.offers_24h, candidate.offers_7d) == (2, 4)
    assert candidate.last_deployment_ended_at == ended
    assert candidate.last_deployment_hours == 9.5
    assert (candidate.offers_total, candidate.accepts_total) == (12, 4)


def test_a_newcomer_without_history_or_seat_reads_as_zeros_and_nones() -> None:
    row = {
        "id": uuid4(),
        "birth_date": date(2000, 1, 1),
        "availability": "available",
        "transport_mode": "foot",
        "lon": 76.9,
        "lat": 43.2,
        "region_code": "KZ-75",
        "phone": "+77019876543",
        "languages": None,
        "quiet_hours_start": None,
        "quiet_hours_end": None,
        "certificate_types": None,
        "certificates_issued": None,
        "certificates_expire": None,
        "group_role": None,
        "on_call": None,
        "committed_incident_id": None,
        "callouts_24h": None,
        "callouts_7d": None,
        "offers_24h": None,
        "offers_7d": None,
        "last_deployment_ended_at": None,
        "last_deployment_hours": None,
        "offers_total": None,
        "accepts_total": None,
    }

    candidate = candidate_from(row)

    assert (candidate.languages, candidate.certificates) == ((), ())
    assert (candidate.group_role, candidate.on_call, candidate.committed_incident_id) == (
        None,
        False,
        None,
    )
    assert (candidate.callouts_24h, candidate.offers_total, candidate.accepts_total) == (0, 0, 0)
    assert candidate.language == "kk", "no language given: Kazakh"
