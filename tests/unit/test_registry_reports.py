"""Report arithmetic on plain values: periods, the volunteer-hours rule, per-region sums, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.registry.reports import (
    CSV_COLUMNS,
    Deployment,
    HoursRule,
    Period,
    RegionCounts,
    Registration,
    summarise,
    to_csv,
)
from shared.reference import KAZAKHSTAN_TZ

ACCEPTED = datetime(2026, 4, 2, 9, 0, tzinfo=KAZAKHSTAN_TZ)
LATER = ACCEPTED + timedelta(days=3)
RULE = HoursRule()


def test_a_period_is_whole_kazakhstan_days_in_utc_plus_5() -> None:
    period = Period(date(2026, 4, 1), date(2026, 4, 2))
    assert period.starts_at == datetime(2026, 3, 31, 19, 0, tzinfo=UTC)
    assert period.ends_at == datetime(2026, 4, 2, 19, 0, tzinfo=UTC)
    assert Period.day(date(2026, 4, 2)) == Period(date(2026, 4, 2), date(2026, 4, 2))


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2026, 4, 2), date(2026, 4, 1))


def test_hours_run_from_acceptance_to_the_recorded_end() -> None:
    ended = ACCEPTED + timedelta(hours=3, minutes=30)
    assert RULE.hours(
        accepted_at=ACCEPTED, ended_at=ended, incident_type="flood", as_of=LATER
    ) == pytest.approx(3.5)


def test_without_an_end_a_deployment_counts_its_incident_types_shift() -> None:
    assert RULE.hours(accepted_at=ACCEPTED, ended_at=None, incident_type="flood", as_of=LATER) == 8
    assert (
        RULE.hours(accepted_at=ACCEPTED, ended_at=None, incident_type="earthquake", as_of=LATER)
        == 12
    )
    assert RULE.hours(accepted_at=ACCEPTED, ended_at=None, incident_type=None, as_of=LATER) == 4


def test_a_deployment_still_under_way_counts_only_the_time_so_far() -> None:
    as_of = ACCEPTED + timedelta(hours=2)
    assert RULE.hours(
        accepted_at=ACCEPTED, ended_at=None, incident_type="flood", as_of=as_of
    ) == pytest.approx(2.0)


def test_a_long_deployment_is_capped_and_an_end_before_acceptance_counts_nothing() -> None:
    week = ACCEPTED + timedelta(days=7)
    assert RULE.hours(accepted_at=ACCEPTED, ended_at=week, incident_type="flood", as_of=LATER) == 24
    early = ACCEPTED - timedelta(minutes=5)
    assert RULE.hours(accepted_at=ACCEPTED, ended_at=early, incident_type="flood", as_of=LATER) == 0


def test_the_shift_table_can_be_replaced() -> None:
    rule = HoursRule(shift_h={"flood": 10.0}, fallback_shift_h=2.0, max_h=9.0)
    assert rule.hours(accepted_at=ACCEPTED, ended_at=None, incident_type="flood", as_of=LATER) == 9
    assert (
        rule.hours(accepted_at=ACCEPTED, ended_at=None, incident_type="mudflow", as_of=LATER) == 2
    )


def deployment(region: str | None, volunteer: UUID, hours: float | None) -> Deployment:
    return Deployment(
        region_code=region,
        incident_type="flood",
        volunteer_id=volunteer,
        accepted_at=ACCEPTED,
        ended_at=None if hours is None else ACCEPTED + timedelta(hours=hours),
    )


def test_summaries_add_up_per_region() -> None:
    aigerim, bolat = uuid4(), uuid4()
    period = Period.day(ACCEPTED.date())
    rows = summarise(
        period,
        counts=[
            RegionCounts("KZ-39", incidents_opened=1, offers_sent=5, offers_declined=1),
            RegionCounts("KZ-75", offers_sent=2, offers_timed_out=2, groups_understaffed=1),
        ],
        deployments=[
            deployment("KZ-39", aigerim, 3.0),
            deployment("KZ-39", aigerim, 1.5),  # a second call-out the same day
            deployment("KZ-39", bolat, None),
        ],
        registrations=[
            Registration("KZ-39", registered=40, active=2),
            Registration("KZ-11", 10, 0),
        ],
        rule=RULE,
        as_of=LATER,
    )
    assert [row.region_code for row in rows] == ["KZ-11", "KZ-39", "KZ-75"]
    kostanay = rows[1]
    assert (kostanay.incidents_opened, kostanay.offers_sent, kostanay.offers_declined) == (1, 5, 1)
    assert kostanay.deployments == 3
    assert kostanay.unique_active_volunteers == 2
    assert kostanay.volunteer_hours == pytest.approx(3.0 + 1.5 + 8.0)
    assert kostanay.active_share == pytest.approx(0.05)
    assert rows[0].active_share == 0
    assert rows[2].active_share is None, "nobody registered: no share rather than zero"
    assert (rows[2].offers_timed_out, rows[2].groups_understaffed) == (2, 1)


def test_requested_regions_are_reported_even_when_nothing_happened() -> None:
    rows = summarise(
        Period.day(ACCEPTED.date()),
        counts=[RegionCounts("KZ-39", offers_sent=1)],
        deployments=[],
        registrations=[],
        rule=RULE,
        as_of=LATER,
        region_codes=["KZ-75", "KZ-39"],
    )
    assert [(row.region_code, row.offers_sent) for row in rows] == [("KZ-75", 0), ("KZ-39", 1)]


def test_entries_of_an_unknown_region_come_last() -> None:
    rows = summarise(
        Period.day(ACCEPTED.date()),
        counts=[RegionCounts(None, offers_sent=1), RegionCounts("KZ-39", offers_sent=1)],
        deployments=[],
        registrations=[],
        rule=RULE,
        as_of=LATER,
    )
    assert [row.region_code for row in rows] == ["KZ-39", None]


def test_csv_has_one_header_and_one_line_per_region() -> None:
    rows = summarise(
        Period(date(2026, 4, 1), date(2026, 4, 30)),
        counts=[RegionCounts("KZ-39", offers_sent=3)],
        deployments=[deployment("KZ-39", uuid4(), 2.25)],
        registrations=[Registration("KZ-39", registered=3, active=1)],
        rule=RULE,
        as_of=LATER,
        include_exercises=True,
    )
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert list(parsed[0]) == list(CSV_COLUMNS)
    assert parsed == [
        {
            "first_day": "2026-04-01",
            "last_day": "2026-04-30",
            "region_code": "KZ-39",
            "exercises_included": "yes",
            "incidents_opened": "0",
            "offers_sent": "3",
            "deployments": "1",
            "offers_declined": "0",
            "offers_timed_out": "0",
            "offers_stood_down": "0",
            "groups_completed": "0",
            "groups_understaffed": "0",
            "volunteer_hours": "2.25",
            "unique_active_volunteers": "1",
            "registered_volunteers": "3",
            "active_registered_volunteers": "1",
            "active_share": "0.3333",
        }
    ]
