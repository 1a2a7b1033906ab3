"""What a volunteer's own call-out list reveals: the meeting point only after accepting."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.api.my_offers import OwnOffer, reveal
from shared.events.mobilization import MobilizationStatus, OfferStatus

NOW = datetime(2026, 4, 2, 3, 0, tzinfo=UTC)
SCENE = (63.62, 53.21)

OFFER = OwnOffer(
    offer_id=uuid.uuid4(),
    incident_id=uuid.uuid4(),
    role="leader",
    incident_type="flood",
    status=OfferStatus.PENDING,
    mobilization_status=MobilizationStatus.ACTIVE,
    is_exercise=False,
    headline="Flood",
    distance_m=4000,
    eta_s=600,
    offered_at=NOW - timedelta(minutes=2),
    expires_at=NOW + timedelta(minutes=8),
    responded_at=None,
    closed_reason=None,
    meeting_point=SCENE,
)


def test_a_pending_offer_is_answerable_with_its_time_left_but_no_meeting_point() -> None:
    shown = reveal(OFFER, now=NOW)
    assert shown.answerable
    assert shown.seconds_left == 480
    assert shown.meeting_point is None


def test_the_meeting_point_is_shown_once_accepted() -> None:
    accepted = replace(OFFER, status=OfferStatus.ACCEPTED, responded_at=NOW)
    shown = reveal(accepted, now=NOW)
    assert shown.meeting_point == SCENE
    assert not shown.answerable
    # A complete group still needs its members to find the scene.
    complete = replace(accepted, mobilization_status=MobilizationStatus.COMPLETE)
    assert reveal(complete, now=NOW).meeting_point == SCENE


def test_nothing_is_revealed_once_the_incident_is_over() -> None:
    over = replace(
        OFFER, status=OfferStatus.ACCEPTED, mobilization_status=MobilizationStatus.CLOSED
    )
    assert reveal(over, now=NOW).meeting_point is None


def test_declined_expired_or_filled_offers_are_not_answerable_and_stay_hidden() -> None:
    for offer in (
        replace(OFFER, status=OfferStatus.DECLINED),
        replace(OFFER, expires_at=NOW - timedelta(seconds=1)),
        replace(OFFER, mobilization_status=MobilizationStatus.COMPLETE),
        replace(OFFER, status=OfferStatus.STOOD_DOWN),
    ):
        shown = reveal(offer, now=NOW)
        assert not shown.answerable
        assert shown.seconds_left == 0
        assert shown.meeting_point is None
