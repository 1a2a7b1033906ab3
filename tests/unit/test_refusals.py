"""The queue of refused alerts, its pure parts: what a dead letter becomes in the queue, and who
sees a refused alert (a refused police report names a missing person)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.api.auth.principals import AccountRole, Principal, sees_refusal
from services.registry.refusals import refusal_of
from shared.events import topics
from shared.events.alerts import DeadLetter, RefusalStatus
from shared.rejections import Rejected

REFUSED_AT = datetime(2026, 4, 2, 4, 0, tzinfo=UTC)


def principal(role: AccountRole, *regions: str) -> Principal:
    return Principal(
        account_id=uuid.uuid4(), role=role, session_id=uuid.uuid4(), regions=frozenset(regions)
    )


@pytest.mark.parametrize(
    ("who", "about", "sees"),
    [
        (principal(AccountRole.DISPATCHER, "KZ-39"), ["KZ-39"], True),
        (principal(AccountRole.DISPATCHER, "KZ-39"), ["KZ-11", "KZ-39"], True),
        (principal(AccountRole.DISPATCHER, "KZ-75"), ["KZ-39"], False),
        # Nobody knows where a message too broken to read is about: every dispatcher's.
        (principal(AccountRole.DISPATCHER, "KZ-75"), [], True),
        (principal(AccountRole.ADMIN), ["KZ-39"], True),
        # Coordinators run searches, analysts count: neither works the intake's refusals.
        (principal(AccountRole.COORDINATOR, "KZ-39"), ["KZ-39"], False),
        (principal(AccountRole.ANALYST), [], False),
        (principal(AccountRole.VOLUNTEER), [], False),
        (None, [], False),
    ],
)
def test_who_sees_a_refused_alert(who: Principal | None, about: list[str], sees: bool) -> None:
    assert sees_refusal(who, about) is sees


def _letter(**fields: str) -> dict[str, str]:
    letter = DeadLetter(
        code="sender_not_permitted",
        reason="The Department of Kostanay Region may alert only for Kostanay Region (KZ-39)",
        source_topic=topics.ALERTS_CAP,
        source_partition=1,
        source_offset=42,
        received_at=REFUSED_AT,
        **fields,
    )
    return letter.to_headers()


def test_a_dead_letter_is_queued_open_with_its_sender_and_regions() -> None:
    row = refusal_of(b"<alert/>", _letter(sender="dchs.kostanay@emer.gov.kz", regions="KZ-11"))
    assert row["status"] == RefusalStatus.OPEN
    assert row["code"] == "sender_not_permitted"
    assert row["sender"] == "dchs.kostanay@emer.gov.kz"
    assert row["region_codes"] == ["KZ-11"]
    assert row["message"] == b"<alert/>", "the message as it was sent, byte for byte"
    assert (row["source_topic"], row["source_partition"], row["source_offset"]) == (
        topics.ALERTS_CAP,
        1,
        42,
    )
    assert row["refused_at"] == REFUSED_AT


def test_unknown_regions_are_dropped_and_an_unread_sender_is_none() -> None:
    row = refusal_of(b"x", _letter(regions="KZ-39,XX-99,,KZ-39"))
    assert row["region_codes"] == ["KZ-39"]
    assert row["sender"] is None


def test_a_record_without_a_dead_letters_headers_is_refused_in_turn() -> None:
    with pytest.raises(Rejected) as refused:
        refusal_of(b"<alert/>", {"dead_letter.code": b"too_large"})
    assert refused.value.code == "invalid_dead_letter"
    assert "reason" in refused.value.reason


def test_a_rejection_says_who_sent_it_and_where_without_changing_its_verdict() -> None:
    verdict = Rejected("unknown_sender", "nobody knows prank@example.com")
    placed = verdict.about(sender="prank@example.com", regions=("KZ-39",))
    assert (placed.code, placed.reason) == (verdict.code, verdict.reason)
    assert placed.sender == "prank@example.com" and placed.regions == ("KZ-39",)
