"""The pure parts of access: who may operate where, tokens, answer links, phone numbers, and what
the public sees of a missing person."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.api.auth.principals import AccountRole, Principal, may_operate, owns_offer
from services.api.auth.schemas import normalise_phone
from services.api.auth.tokens import InvalidToken, issue_access, read_access
from services.api.privacy import public_area
from shared import answer_links

NOW = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
SECRET = "unit-test-secret-of-thirty-two-bytes!"


def principal(role: AccountRole, *regions: str, volunteer: uuid.UUID | None = None) -> Principal:
    return Principal(
        account_id=uuid.uuid4(),
        role=role,
        session_id=uuid.uuid4(),
        regions=frozenset(regions),
        volunteer_id=volunteer,
    )


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        (principal(AccountRole.DISPATCHER, "KZ-39"), True),
        (principal(AccountRole.COORDINATOR, "KZ-11", "KZ-39"), True),
        (principal(AccountRole.DISPATCHER, "KZ-75"), False),
        (principal(AccountRole.DISPATCHER), False),
        (principal(AccountRole.ADMIN), True),
        (principal(AccountRole.ANALYST, "KZ-39"), False),
        (principal(AccountRole.VOLUNTEER, "KZ-39", volunteer=uuid.uuid4()), False),
        (None, False),
    ],
)
def test_only_operators_of_a_touched_region_may_operate(
    who: Principal | None, allowed: bool
) -> None:
    assert may_operate(who, ["KZ-39", "KZ-55"]) is allowed


def test_an_offer_is_answered_only_by_its_volunteer() -> None:
    mine = uuid.uuid4()
    assert owns_offer(principal(AccountRole.VOLUNTEER, volunteer=mine), mine)
    assert not owns_offer(principal(AccountRole.VOLUNTEER, volunteer=uuid.uuid4()), mine)
    assert not owns_offer(principal(AccountRole.ADMIN, volunteer=None), mine)
    assert not owns_offer(None, mine)


def test_an_access_token_says_who_and_stops_when_it_expires() -> None:
    who = principal(AccountRole.COORDINATOR, "KZ-39")
    token = issue_access(who, secret=SECRET, now=NOW, lifetime=timedelta(minutes=15))
    assert read_access(token, secret=SECRET, now=NOW + timedelta(minutes=14)) == who
    with pytest.raises(InvalidToken):
        read_access(token, secret=SECRET, now=NOW + timedelta(minutes=15))
    with pytest.raises(InvalidToken):
        read_access(token, secret="another-secret-of-thirty-two-bytes", now=NOW)
    header, payload, signature = token.split(".")
    with pytest.raises(InvalidToken):  # a payload changed by hand no longer matches
        read_access(f"{header}.{payload[:-2]}xy.{signature}", secret=SECRET, now=NOW)


def test_an_answer_link_is_short_bound_to_its_volunteer_and_expires() -> None:
    offer, volunteer = uuid.uuid4(), uuid.uuid4()
    expires = NOW + timedelta(minutes=10)
    token = answer_links.sign(
        SECRET, offer_id=offer, volunteer_id=volunteer, offer_expires_at=expires
    )
    assert len(token) == answer_links.TOKEN_CHARS == 40
    assert token == answer_links.sign(
        SECRET, offer_id=offer, volunteer_id=volunteer, offer_expires_at=expires
    ), "the same offer gets the same link (redelivered SMS)"
    claim = answer_links.read(token)
    assert claim.offer_id == offer
    answer_links.verify(SECRET, claim, volunteer_id=volunteer, now=expires + timedelta(hours=11))
    with pytest.raises(answer_links.InvalidLink, match="expired"):
        answer_links.verify(
            SECRET, claim, volunteer_id=volunteer, now=expires + timedelta(hours=13)
        )
    with pytest.raises(answer_links.InvalidLink, match="signature"):
        answer_links.verify(SECRET, claim, volunteer_id=uuid.uuid4(), now=NOW)
    for bad in (str(offer), "A" * 39, "!" * 40, ""):
        with pytest.raises(answer_links.InvalidLink):
            answer_links.read(bad)


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("+7 701 123 45 67", "+77011234567"),
        ("8 (701) 123-45-67", "+77011234567"),
        ("87011234567", "+77011234567"),
        ("77011234567", "+77011234567"),
        ("7011234567", "+77011234567"),
        ("+49 30 1234567", "+49301234567"),
        ("call me", None),
        ("+7", None),
        ("1" * 40, None),
    ],
)
def test_phone_numbers_as_people_write_them(written: str, e164: str | None) -> None:
    assert normalise_phone(written) == e164


def test_the_public_area_of_a_missing_person_is_a_coarse_box() -> None:
    from services.api.schemas import IncidentProperties

    properties = IncidentProperties.model_validate(
        {
            "type": "missing_person",
            "priority": "critical",
            "status": "open",
            "alert_status": "Actual",
            "is_exercise": False,
            "source": "missing_person",
            "severity": None,
            "urgency": None,
            "certainty": None,
            "headline": None,
            "event": None,
            "texts": [],
            "area_km2": 1.0,
            "center": (63.6253, 53.2148),
            "region_codes": ["KZ-39"],
            "opened_at": NOW,
            "updated_at": NOW,
            "expires_at": None,
            "version": 1,
        }
    )
    circle = {
        "type": "MultiPolygon",
        "coordinates": [
            [
                [
                    [63.6253, 53.2418],
                    [63.588, 53.2148],
                    [63.6253, 53.1878],
                    [63.6626, 53.2148],
                    [63.6253, 53.2418],
                ]
            ]
        ],
    }
    coarse = json.loads(public_area(properties, json.dumps(circle)))
    [[ring]] = coarse["coordinates"]
    assert ring == [[63.58, 53.18], [63.68, 53.18], [63.68, 53.26], [63.58, 53.26], [63.58, 53.18]]
    flood = properties.model_copy(update={"source": "cap"})
    assert public_area(flood, json.dumps(circle)) == json.dumps(circle), "a flood's area is public"


def test_a_raised_budget_never_falls_below_what_was_sent_nor_passes_the_cap() -> None:
    from services.mobilizer.steering import MAX_OFFER_BUDGET, raised_budget

    assert raised_budget(30, 12, 10) == 40
    assert raised_budget(None, 12, 10) == 22
    assert raised_budget(30, 45, 5) == 50, "an old budget below what was sent starts from sent"
    assert raised_budget(MAX_OFFER_BUDGET - 3, 0, 500) == MAX_OFFER_BUDGET
