"""A dispatcher's circle as a CAP Update of the alert it places: valid CAP the intake reads, from
Jedel's dispatchers, referring to the alert, its areas replaced and nothing else changed."""

from __future__ import annotations

from datetime import datetime

import pytest
from lxml import etree
from shapely.geometry import Point

from services.api.area_confirmation import (
    DISPATCH_SENDER,
    NotCorrectable,
    confirmed_area_update,
)
from services.intake.cap import parse_cap
from shared.reference import KAZAKHSTAN_TZ
from tests.factories import CAP, cap
from tests.unit.test_signatures import self_signed, sign

SENT = datetime(2026, 4, 2, 9, 0, tzinfo=KAZAKHSTAN_TZ)


def _update(original: bytes) -> bytes:
    return confirmed_area_update(
        original,
        identifier="jedel-area-1",
        sent=SENT,
        lon=63.62,
        lat=53.21,
        radius_m=2_500,
        description="Area placed by a Jedel dispatcher",
    )


@pytest.mark.parametrize("name", ["flood_kostanay_12.xml", "steppe_fire_11.xml"])
def test_the_update_is_cap_from_the_dispatchers_about_the_circle(name: str) -> None:
    original = parse_cap(cap(name, run="r1"))
    update = parse_cap(_update(cap(name, run="r1")))  # schema-valid, or this raises

    assert (update.sender, update.identifier, update.msg_type) == (
        DISPATCH_SENDER,
        "jedel-area-1",
        "Update",
    )
    assert update.sent == SENT
    assert [(r.sender, r.identifier, r.sent) for r in update.references] == [original.key]
    assert update.version == original.version
    assert [(i.language, i.event, i.urgency, i.severity) for i in update.infos] == [
        (i.language, i.event, i.urgency, i.severity) for i in original.infos
    ]
    for info in update.infos:
        [area] = info.areas
        assert area.description == "Area placed by a Jedel dispatcher"
        assert area.geometry is not None and area.geometry.contains(Point(63.62, 53.21))
        assert not area.geocodes


def test_a_signature_is_dropped_for_it_no_longer_holds() -> None:
    key, certificate, _ = self_signed("Kostanay DES")
    signed = sign(cap("flood_kostanay_12.xml", run="r2"), key, certificate)
    assert b"Signature" in signed
    update = _update(signed)
    assert b"Signature" not in update
    parse_cap(update)


def test_an_update_of_an_update_refers_to_it_alone() -> None:
    once = _update(cap("flood_kostanay_12.xml", run="r3"))
    twice = parse_cap(
        confirmed_area_update(
            once,
            identifier="jedel-area-2",
            sent=SENT,
            lon=63.7,
            lat=53.2,
            radius_m=1_000,
            description="again",
        )
    )
    assert [(r.sender, r.identifier) for r in twice.references] == [
        (DISPATCH_SENDER, "jedel-area-1")
    ]


@pytest.mark.parametrize(
    "original",
    [
        b"not xml at all",
        b"<report><name>x</name></report>",
        etree.tostring(etree.fromstring((CAP / "flood_cancel_12.xml").read_bytes()))
        .replace(b"<info>", b"<!--")
        .replace(b"</info>", b"-->"),
    ],
)
def test_what_cannot_be_placed_is_refused(original: bytes) -> None:
    with pytest.raises(NotCorrectable):
        _update(original)
