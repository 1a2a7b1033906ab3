"""The notifier's lanes: one offer's events in order, different offers side by side."""

from __future__ import annotations

from dataclasses import dataclass

from services.notifier.subscribers import offer_lane
from shared.events.base import Event
from tests.factories import an_offer, stand_down_of


@dataclass(frozen=True)
class Record:
    value: bytes
    key: bytes
    headers: tuple[tuple[str, bytes], ...]


def record(event: Event, *, key: bytes = b"incident") -> Record:
    return Record(
        event.model_dump_json().encode(), key, (("event_type", type(event).__name__.encode()),)
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
