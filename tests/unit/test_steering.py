"""A dispatcher's commands: read off `responses.v1` by kind, and whom a release concerns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.mobilizer.steering import (
    MAX_WIDENED_RADIUS_M,
    member_to_release,
    widened_radius,
)
from services.mobilizer.subscribers import decode_answer
from services.mobilizer.tables import OfferRow
from shared.events.mobilization import (
    Answer,
    CallOffGroup,
    OfferStatus,
    RaiseOfferBudget,
    ReleaseMember,
    RespondToOffer,
    WidenRadius,
)
from shared.rejections import Rejected

INCIDENT, ACCOUNT = uuid.uuid4(), uuid.uuid4()


def _offer(volunteer: uuid.UUID, status: OfferStatus) -> OfferRow:
    return OfferRow(
        id=uuid.uuid4(),
        incident_id=INCIDENT,
        volunteer_id=volunteer,
        role="medic",
        status=status,
        offered_at=datetime(2026, 4, 2, tzinfo=UTC),
    )


def test_a_release_concerns_only_the_place_the_volunteer_holds() -> None:
    holder, asker = uuid.uuid4(), uuid.uuid4()
    offers = [
        _offer(holder, OfferStatus.DECLINED),  # an earlier "no" from the same person
        _offer(asker, OfferStatus.PENDING),
        held := _offer(holder, OfferStatus.ACCEPTED),
    ]
    assert member_to_release(offers, holder) is held
    assert member_to_release(offers, asker) is None, "asked, not a member: nothing to release"
    assert member_to_release(offers, uuid.uuid4()) is None
    held.status = OfferStatus.STOOD_DOWN
    assert member_to_release(offers, holder) is None, "released once: not again"


@pytest.mark.parametrize(
    "command",
    [
        ReleaseMember(incident_id=INCIDENT, volunteer_id=uuid.uuid4(), account_id=ACCOUNT),
        CallOffGroup(incident_id=INCIDENT, account_id=ACCOUNT),
        WidenRadius(incident_id=INCIDENT, account_id=ACCOUNT),
        RaiseOfferBudget(incident_id=INCIDENT, by=10, account_id=ACCOUNT),
        RespondToOffer(
            incident_id=INCIDENT,
            offer_id=uuid.uuid4(),
            volunteer_id=uuid.uuid4(),
            answer=Answer.ACCEPT,
        ),
    ],
)
def test_each_command_on_responses_is_read_as_its_own_kind(command: object) -> None:
    data = command.model_dump_json().encode()  # type: ignore[attr-defined]
    assert decode_answer(data) == command


def test_a_dispatchers_command_missing_its_volunteer_is_refused_with_the_field() -> None:
    broken = b'{"kind": "ReleaseMember", "incident_id": "%s", "account_id": "%s"}' % (
        str(INCIDENT).encode(),
        str(ACCOUNT).encode(),
    )
    with pytest.raises(Rejected) as refused:
        decode_answer(broken)
    assert refused.value.code == "invalid_event"
    assert "volunteer_id" in str(refused.value)


def test_a_kind_that_is_no_string_is_refused_not_a_crash() -> None:
    with pytest.raises(Rejected) as refused:
        decode_answer(b'{"kind": ["ReleaseMember"], "incident_id": "x"}')
    assert refused.value.code == "invalid_event"


def test_widening_doubles_the_radius_by_at_least_ten_km_up_to_300() -> None:
    assert widened_radius(20_000) == 40_000
    assert widened_radius(3_000) == 13_000, "a small radius grows by 10 km, not 3"
    assert widened_radius(200_000) == MAX_WIDENED_RADIUS_M == 300_000
    assert widened_radius(300_000) is None, "as wide as it goes: nothing to widen"
