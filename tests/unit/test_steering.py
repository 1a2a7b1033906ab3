"""A dispatcher's commands: read off `responses.v1` by kind, whom a release concerns, and when a
named volunteer may be asked."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.mobilizer.eligibility import Finding, Reason
from services.mobilizer.steering import (
    MAX_WIDENED_RADIUS_M,
    ask_refusal,
    blocking,
    member_to_release,
    widened_radius,
)
from services.mobilizer.subscribers import decode_answer
from services.mobilizer.tables import OfferRow
from services.mobilizer.waves import RoleProgress
from shared.events.mobilization import (
    Answer,
    AskRefusal,
    AskVolunteer,
    CallOffGroup,
    MobilizationStatus,
    OfferStatus,
    RaiseOfferBudget,
    ReleaseMember,
    RespondToOffer,
    WidenRadius,
)
from shared.events.volunteers import Role
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
        AskVolunteer(
            incident_id=INCIDENT, volunteer_id=uuid.uuid4(), role=Role.MEDIC, account_id=ACCOUNT
        ),
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


ASKED_BEFORE = uuid.uuid4()
PROGRESS = {
    Role.LEADER: RoleProgress(Role.LEADER, needed=1, accepted=1, asked=frozenset({ASKED_BEFORE})),
    Role.MEDIC: RoleProgress(Role.MEDIC, needed=2, accepted=1),
}


@pytest.mark.parametrize(
    ("status", "role", "volunteer", "refusal"),
    [
        (MobilizationStatus.ACTIVE, Role.MEDIC, uuid.uuid4(), None),
        (MobilizationStatus.COMPLETE, Role.MEDIC, uuid.uuid4(), AskRefusal.NOT_FORMING),
        (MobilizationStatus.CLOSED, Role.MEDIC, uuid.uuid4(), AskRefusal.NOT_FORMING),
        (MobilizationStatus.ACTIVE, Role.LEADER, uuid.uuid4(), AskRefusal.ROLE_NOT_OPEN),
        (MobilizationStatus.ACTIVE, Role.DRIVER_4X4, uuid.uuid4(), AskRefusal.ROLE_NOT_OPEN),
        # Asked for another role before (declined, timed out): not asked again in this incident.
        (MobilizationStatus.ACTIVE, Role.MEDIC, ASKED_BEFORE, AskRefusal.ALREADY_ASKED),
    ],
)
def test_when_a_named_volunteer_may_be_asked(
    status: MobilizationStatus, role: Role, volunteer: uuid.UUID, refusal: AskRefusal | None
) -> None:
    assert ask_refusal(status, PROGRESS, role, volunteer) is refusal


def test_a_dispatcher_decides_past_fatigue_and_rest_but_not_past_training_or_their_wishes() -> None:
    decided_by_dispatcher = [
        Finding(reason=Reason.TOO_MANY_OFFERS_TODAY, count=5, limit=5),
        Finding(reason=Reason.RESTING_AFTER_DEPLOYMENT),
        Finding(reason=Reason.UNSUITABLE_TRANSPORT),
    ]
    assert blocking(decided_by_dispatcher) == ()
    standing = [
        Finding(reason=Reason.CERTIFICATE_EXPIRED),
        Finding(reason=Reason.OFF_DUTY),
        Finding(reason=Reason.QUIET_HOURS),
        Finding(reason=Reason.MINOR),
        Finding(reason=Reason.COMMITTED_ELSEWHERE),
    ]
    assert blocking([*decided_by_dispatcher, *standing]) == tuple(standing)
