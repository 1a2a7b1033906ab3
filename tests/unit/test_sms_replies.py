"""Reading a volunteer's SMS reply: 1/2 and yes/no words in three languages, minutes with a yes;
anything else is not an answer."""

from __future__ import annotations

import uuid

import pytest

from services.api.errors import InboundSmsUnavailable, NotSignedIn
from services.api.routes.sms import Waiting, authorised, which, which_one
from services.api.sms_replies import MAX_REPLY, SmsReply, read_reply
from shared.events.mobilization import Answer

YES, NO = Answer.ACCEPT, Answer.DECLINE


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("1", SmsReply(YES)),
        (" 2 ", SmsReply(NO)),
        ("ИӘ", SmsReply(YES)),
        ("иә", SmsReply(YES)),
        ("Ия", SmsReply(YES)),  # a phone without Kazakh letters
        ("ДА", SmsReply(YES)),
        ("yes!", SmsReply(YES)),
        ("ЖОҚ", SmsReply(NO)),
        ("жок", SmsReply(NO)),
        ("Нет.", SmsReply(NO)),
        ("no", SmsReply(NO)),
        ("ДА 20", SmsReply(YES, eta_min=20)),
        ("1 45", SmsReply(YES, eta_min=45)),
        ("иә, 30 мин", SmsReply(YES, eta_min=30)),
        ("yes 15 min", SmsReply(YES, eta_min=15)),
    ],
)
def test_what_a_reply_says(text: str, reply: SmsReply) -> None:
    assert read_reply(text) == reply


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "что случилось?",
        "3",
        "да нет",  # both: ask again rather than guess
        "нет 20",  # minutes only mean something with a yes
        "да 0",
        "да 100000",  # longer than a day: not an arrival time
        "да двадцать",
        "да ２０",  # full-width digits are digits to Python, not to us
    ],
)
def test_anything_else_is_not_an_answer(text: str) -> None:
    assert read_reply(text) is None


def test_only_one_sms_worth_is_read() -> None:
    assert read_reply("1" + " " * MAX_REPLY + "2") == SmsReply(YES)
    assert read_reply("x" * 1_000_000) is None


@pytest.mark.parametrize(
    ("configured", "sent", "outcome"),
    [
        ("gateway-token", "Bearer gateway-token", None),
        ("gateway-token", "Bearer other", NotSignedIn),
        ("gateway-token", None, NotSignedIn),
        # An empty setting (compose's default) leaves the door shut, even to an empty token.
        ("", "Bearer ", InboundSmsUnavailable),
        ("", None, InboundSmsUnavailable),
        (None, "Bearer x", InboundSmsUnavailable),
    ],
)
def test_only_the_gateways_token_opens_the_webhook(
    configured: str | None, sent: str | None, outcome: type[Exception] | None
) -> None:
    if outcome is None:
        authorised(configured, sent)
    else:
        with pytest.raises(outcome):
            authorised(configured, sent)


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("2 ИӘ", SmsReply(YES, choice=2)),
        ("1 жоқ", SmsReply(NO, choice=1)),
        ("2 да 15", SmsReply(YES, eta_min=15, choice=2)),
        ("3, yes, 20 min", SmsReply(YES, eta_min=20, choice=3)),
        ("1 2", SmsReply(YES, eta_min=2)),  # no word: "yes, in 2 minutes", as before
    ],
)
def test_a_numbered_answer_says_which_call_out(text: str, reply: SmsReply) -> None:
    assert read_reply(text) == reply


@pytest.mark.parametrize("text", ["0 да", "10 да", "2 нет 20", "2 что"])
def test_a_numbered_answer_needs_a_listed_number_and_a_clear_word(text: str) -> None:
    assert read_reply(text) is None


def _waiting(n: int) -> list[Waiting]:
    return [Waiting(uuid.uuid4(), "ru", "medic", "flood") for _ in range(n)]


def test_which_call_out_a_reply_is_about() -> None:
    one, two = _waiting(1), _waiting(2)
    assert which(one, None) == one[0]
    assert which(two, None) is None  # several and no number: ask, never guess
    assert which(two, 2) == two[1]
    assert which(two, 3) is None
    assert which([], None) is None
    listed = which_one(two, "kk")
    assert "1) су тасқыны, медик; 2) су тасқыны, медик" in listed
    assert "«1 иә»" in listed
