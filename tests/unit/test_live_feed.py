"""The live feed's rules: what an event tells browsers, who hears it, and a stream that lags."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.api.auth.principals import AccountRole, Principal
from services.api.live import RESYNC, Listener, may_hear
from shared.events import topics
from shared.events.incidents import (
    AlertStatus,
    IncidentOpened,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    Priority,
)
from shared.events.mobilization import OfferAccepted
from shared.events.volunteers import Role
from shared.live import Audience, LiveChange, change_of
from shared.rejections import Rejected

NOON = datetime(2026, 4, 2, 7, 0, tzinfo=UTC)


def _opened(incident_id: uuid.UUID) -> IncidentOpened:
    return IncidentOpened(
        incident_id=incident_id,
        type=IncidentType.FLOOD,
        priority=Priority.HIGH,
        status=IncidentStatus.OPEN,
        alert_status=AlertStatus.ACTUAL,
        is_exercise=False,
        source=IncidentSource.CAP,
        area={"type": "MultiPolygon", "coordinates": []},
        area_km2=12.0,
        center_lon=63.6,
        center_lat=53.2,
        region_codes=("KZ-39", "KZ-11"),
        opened_at=NOON,
        headline="Тобыл тасыды",
    )


def _principal(role: AccountRole, *regions: str) -> Principal:
    return Principal(
        account_id=uuid.uuid4(),
        role=role,
        session_id=uuid.uuid4(),
        regions=frozenset(regions),
    )


def test_an_incident_event_is_told_to_everyone_with_its_regions_and_nothing_else() -> None:
    incident = uuid.uuid4()
    event = _opened(incident)

    change = change_of(topics.INCIDENTS, event.model_dump_json().encode())

    assert change is not None
    assert change.audience is Audience.PUBLIC
    assert change.kind == "IncidentOpened"
    assert change.incident_id == incident
    assert change.region_codes == ("KZ-39", "KZ-11")
    said = change.model_dump_json()
    assert "Тобыл" not in said and "63.6" not in said, "no texts, no places on the feed"


def test_a_group_event_is_told_to_operators_and_names_nobody() -> None:
    volunteer = uuid.uuid4()
    event = OfferAccepted(
        incident_id=uuid.uuid4(),
        offer_id=uuid.uuid4(),
        volunteer_id=volunteer,
        role=Role.MEDIC,
        eta_s=600,
    )

    change = change_of(topics.MOBILIZATION, event.model_dump_json().encode())

    assert change is not None
    assert change.audience is Audience.OPERATORS
    assert change.region_codes is None, "its regions are the database's to say"
    assert str(volunteer) not in change.model_dump_json()


def test_bytes_that_are_no_event_are_refused_and_an_event_of_no_incident_tells_nothing() -> None:
    with pytest.raises(Rejected) as refused:
        change_of(topics.MOBILIZATION, b'{"kind": "OfferAccepted"')
    assert refused.value.code == "invalid_event"
    no_incident = b'{"event_id": "%s", "kind": "X", "occurred_at": "2026-04-02T07:00:00Z"}' % (
        str(uuid.uuid4()).encode()
    )
    assert change_of(topics.MOBILIZATION, no_incident) is None


def _change(audience: Audience) -> LiveChange:
    return LiveChange(
        event_id=uuid.uuid4(),
        kind="OfferAccepted" if audience is Audience.OPERATORS else "IncidentOpened",
        incident_id=uuid.uuid4(),
        occurred_at=NOON,
        audience=audience,
    )


@pytest.mark.parametrize(
    ("who", "hears_the_group"),
    [
        (None, False),
        (_principal(AccountRole.VOLUNTEER), False),
        (_principal(AccountRole.ANALYST), False),
        (_principal(AccountRole.DISPATCHER, "KZ-75"), False),
        (_principal(AccountRole.DISPATCHER, "KZ-39"), True),
        (_principal(AccountRole.COORDINATOR, "KZ-11", "KZ-39"), True),
        (_principal(AccountRole.ADMIN), True),
    ],
)
def test_everyone_hears_of_incidents_and_only_their_operators_of_the_group(
    who: Principal | None, hears_the_group: bool
) -> None:
    regions = ("KZ-39",)
    assert may_hear(who, _change(Audience.PUBLIC), regions)
    assert may_hear(who, _change(Audience.OPERATORS), regions) is hears_the_group


def test_a_stream_that_falls_a_queue_behind_is_told_to_read_everything_again() -> None:
    listener = Listener(None)
    capacity = listener.queue.maxsize
    for _ in range(capacity + 5):
        listener.offer(_change(Audience.PUBLIC))

    assert listener.queue.qsize() < 8, "the backlog is dropped, not kept"
    assert listener.queue.get_nowait() is RESYNC
    later = [listener.queue.get_nowait() for _ in range(listener.queue.qsize())]
    assert all(isinstance(item, LiveChange) for item in later), "changes after it still come"
