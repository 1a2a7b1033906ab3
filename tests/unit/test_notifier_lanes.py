"""The notifier's lanes: one offer's events in order, different offers side by side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from services.notifier.subscribers import offer_lane
from shared.events.base import Event
from shared.events.incidents import IncidentType, Priority
from shared.events.mobilization import OfferStoodDown, StandDownReason, VolunteerOffered
from shared.events.volunteers import Role


@dataclass(frozen=True)
class Record:
    value: bytes
    key: bytes
    headers: tuple[tuple[str, bytes], ...]


def record(event: Event, *, key: bytes = b"incident") -> Record:
    return Record(
        event.model_dump_json().encode(), key, (("event_type", type(event).__name__.encode()),)
    )


def an_offer() -> VolunteerOffered:
    return VolunteerOffered(
        incident_id=uuid4(),
        offer_id=uuid4(),
        volunteer_id=uuid4(),
        role=Role.MEDIC,
        wave=1,
        eta_s=600,
        distance_m=5_000,
        expires_at=datetime.now(UTC) + timedelta(minutes=10),
        language="kk",
        contact_phone="+77010000000",
        incident_type=IncidentType.FLOOD,
        priority=Priority.HIGH,
    )


def stand_down_of(offer: VolunteerOffered) -> OfferStoodDown:
    return OfferStoodDown(
        incident_id=offer.incident_id,
        offer_id=offer.offer_id,
        volunteer_id=offer.volunteer_id,
        role=offer.role,
        reason=StandDownReason.GROUP_COMPLETE,
        language="kk",
        contact_phone=offer.contact_phone,
    )


def test_an_offer_and_its_stand_down_share_a_lane_and_two_offers_do_not() -> None:
    first, second = an_offer(), an_offer()
    assert offer_lane(record(first)) == offer_lane(record(stand_down_of(first)))
    assert offer_lane(record(first)) != offer_lane(record(second))


def test_what_the_notifier_does_not_handle_or_cannot_read_stays_in_its_key_s_lane() -> None:
    unread = Record(b"{not json", b"incident-7", (("event_type", b"VolunteerOffered"),))
    other_kind = Record(b'{"offer_id": "x"}', b"incident-7", (("event_type", b"WaveSent"),))
    no_offer = Record(b'{"kind": "VolunteerOffered"}', b"incident-7", ())
    assert offer_lane(unread) == b"incident-7"
    assert offer_lane(other_kind) == b"incident-7"
    assert offer_lane(no_offer) == b"incident-7"
