"""Answers to offers as the API reads them back, the words it says them in, and group tallies."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from uuid import UUID

import pytest

from services.api.answers import (
    Decided,
    OfferState,
    Refusal,
    Refused,
    settled,
    still_to_decide,
)
from services.api.callouts import ExplanationRecord, OfferCard, tally
from services.api.messages import closed, preferred_language
from services.api.routes.answer_page import render_page, state_note
from shared.events.mobilization import Answer, OfferStatus, StandDownReason

PENDING = OfferState(
    offer_id=UUID("00000000-0000-4000-8000-000000000001"),
    incident_id=UUID("00000000-0000-4000-8000-000000000002"),
    volunteer_id=UUID("00000000-0000-4000-8000-000000000003"),
    role="medic",
    status="pending",
    closed_reason=None,
    eta_s=600,
    mobilization_status="active",
)


def _offer(
    status: str, closed_reason: str | None = None, *, mobilization_status: str = "active"
) -> OfferState:
    return dataclasses.replace(
        PENDING,
        status=status,
        closed_reason=closed_reason,
        mobilization_status=mobilization_status,
    )


@pytest.mark.parametrize("answer", list(Answer))
def test_an_open_offer_waits_for_the_mobilizer(answer: Answer) -> None:
    assert settled(PENDING, answer) is None


def test_the_same_answer_again_is_answered_as_the_first() -> None:
    assert settled(_offer("accepted"), Answer.ACCEPT) == Decided(OfferStatus.ACCEPTED)
    assert settled(_offer("declined"), Answer.DECLINE) == Decided(OfferStatus.DECLINED)


def test_a_decline_after_an_accept_is_refused_as_already_accepted() -> None:
    assert settled(_offer("accepted"), Answer.DECLINE) == Refused(
        Refusal.ALREADY_ACCEPTED, "accepted"
    )


@pytest.mark.parametrize(
    ("offer", "reason", "why"),
    [
        (_offer("declined"), Refusal.OFFER_CLOSED, "declined"),
        (_offer("timed_out"), Refusal.OFFER_CLOSED, "timed_out"),
        (_offer("stood_down", "role_filled"), Refusal.ROLE_FILLED, "role_filled"),
        (
            _offer("stood_down", "committed_elsewhere"),
            Refusal.ALREADY_COMMITTED,
            "committed_elsewhere",
        ),
        (_offer("stood_down", "group_complete"), Refusal.OFFER_CLOSED, "group_complete"),
        (_offer("stood_down", "incident_cancelled"), Refusal.OFFER_CLOSED, "incident_cancelled"),
        (_offer("stood_down"), Refusal.OFFER_CLOSED, "withdrawn"),
        (_offer("something_new"), Refusal.OFFER_CLOSED, "withdrawn"),
        (
            _offer("pending", mobilization_status="complete"),
            Refusal.OFFER_CLOSED,
            "mobilization_ended",
        ),
    ],
)
def test_an_accept_of_a_closed_offer_is_refused_with_why(
    offer: OfferState, reason: Refusal, why: str
) -> None:
    assert settled(offer, Answer.ACCEPT) == Refused(reason, why)


def test_every_stand_down_reason_has_its_own_words() -> None:
    generic = closed("withdrawn", "en")
    for reason in StandDownReason:
        assert closed(reason.value, "en") != generic, reason


def test_a_refusal_is_told_in_the_volunteers_language() -> None:
    refused = settled(_offer("stood_down", "role_filled"), Answer.ACCEPT)
    assert isinstance(refused, Refused)
    assert refused.describe("kk") == "Бұл шақыру жабық: бұл орынды басқа ерікті алды"
    assert refused.describe("ru") == "Этот вызов закрыт: это место уже занял другой волонтёр"
    assert refused.describe("en") == "This call-out is closed: someone else took this place"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "kk"),
        ("", "kk"),
        ("ru", "ru"),
        ("en-GB", "en"),
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("de-DE, en;q=0.5, ru;q=0.4", "en"),
        ("en;q=0.2, kk;q=0.8", "kk"),
        ("ru;q=0, en", "en"),
        ("fr, de", "kk"),
        ("*", "kk"),
        ("EN", "en"),
        ("ru;q=abc, en;q=0.1", "en"),
    ],
)
def test_the_language_comes_from_accept_language_with_kazakh_otherwise(
    header: str | None, language: str
) -> None:
    assert preferred_language(header) == language


def test_a_tally_counts_offers_per_role_and_state_with_the_leader_first() -> None:
    tallies = tally(
        {"medic": 2, "leader": 1},
        {
            ("medic", "pending"): 3,
            ("medic", "accepted"): 1,
            ("medic", "declined"): 1,
            ("leader", "accepted"): 1,
            ("leader", "stood_down"): 1,
        },
    )

    leader, medic = tallies
    assert (leader.role, leader.needed, leader.accepted, leader.stood_down) == ("leader", 1, 1, 1)
    assert (leader.asked, leader.open_places) == (2, 0)
    assert (medic.role, medic.pending, medic.declined, medic.timed_out) == ("medic", 3, 1, 0)
    assert (medic.asked, medic.open_places) == (5, 1)


def test_a_tally_shows_roles_with_offers_but_no_places_and_places_nobody_was_asked_for() -> None:
    tallies = tally({"drone_pilot": 1}, {("searcher", "pending"): 2})

    assert [(t.role, t.needed, t.asked) for t in tallies] == [
        ("searcher", 0, 2),
        ("drone_pilot", 1, 0),
    ]


def test_explanation_lines_fall_back_to_kazakh_then_any_language() -> None:
    record = ExplanationRecord(
        volunteer_id=PENDING.volunteer_id,
        name=None,
        wave=1,
        outcome="not_eligible",
        role=None,
        eta_s=None,
        distance_m=None,
        p_accept=None,
        reasons=["minor"],
        text={"kk": ["Жасы толмаған"], "ru": []},
        decided_at=datetime(2026, 4, 2, tzinfo=UTC),
        offer_status=None,
        closed_reason=None,
    )

    assert record.lines("kk") == ["Жасы толмаған"]
    assert record.lines("ru") == ["Жасы толмаған"]
    assert dataclasses.replace(record, text={"en": ["Under 18"]}).lines("kk") == ["Under 18"]
    assert dataclasses.replace(record, text={}).lines("en") == []


def test_a_yes_sent_before_the_lapse_is_waited_for_even_if_the_offer_timed_out_meanwhile() -> None:
    lapsed = dataclasses.replace(
        _offer("timed_out"), expires_at=datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
    )
    in_time, too_late = (
        datetime(2026, 4, 2, 8, 59, tzinfo=UTC),
        datetime(2026, 4, 2, 9, 1, tzinfo=UTC),
    )

    assert still_to_decide(lapsed, Answer.ACCEPT, sent_at=in_time)
    assert not still_to_decide(lapsed, Answer.ACCEPT, sent_at=too_late)
    assert not still_to_decide(lapsed, Answer.DECLINE, sent_at=in_time), "a no changes nothing"
    assert not still_to_decide(_offer("stood_down"), Answer.ACCEPT, sent_at=in_time)


def test_the_answer_page_tells_a_member_when_the_incident_ended_after_their_yes() -> None:
    member = _offer("accepted")
    ended = _offer("accepted", "incident_cancelled", mobilization_status="closed")

    assert state_note(member, "en") == "You are in the group. Thank you!"
    assert state_note(ended, "en") == "This call-out is closed: the incident was cancelled"
    assert state_note(ended, "kk") == "Бұл шақыру жабық: оқиға жойылды"


def test_the_answer_page_shows_the_headline_in_the_volunteers_language_when_the_alert_has_it() -> (
    None
):
    card = OfferCard(
        state=PENDING,
        headline="Тобыл өзенінде су тасқыны қаупі",
        is_exercise=False,
        language="ru",
        headlines={"kk": "Тобыл өзенінде су тасқыны қаупі", "ru": "Угроза паводка на реке Тобол"},
    )

    russian = bytes(render_page(card, "ru", note=None, link="x").body).decode()
    english = bytes(render_page(card, "en", note=None, link="x").body).decode()

    assert "<h1>Угроза паводка на реке Тобол</h1>" in russian
    assert "<h1>Тобыл өзенінде су тасқыны қаупі</h1>" in english, "else the incident's own"
