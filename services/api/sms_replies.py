"""What a volunteer's SMS reply to a call-out says — pure.

A push-button phone cannot open the answer link, so the volunteer answers the SMS itself: `1` or
`2`, or a word — yes in Kazakh, Russian or English (`ИӘ`, `ИЯ`, `ДА`, `YES`, `Y`), no likewise
(`ЖОҚ`, `ЖОК`, `НЕТ`, `NO`, `N`) — and, with a yes, how many minutes they need to get there
(`ДА 20`, `1 45`, `иә, 30 мин`). Case, punctuation, a trailing "мин"/"min" and the letters phones
without Kazakh keyboards put in their place (`иа`, `жок`) do not matter. Anything else is not an
answer (`None`): the volunteer is told how to answer, and nothing is decided.

Someone with several call-outs waiting is asked which one they mean, numbered, and answers with
the number and a yes or no word (`2 ИӘ`, `1 жоқ`, `2 да 15`): `SmsReply.choice`. The word is
needed: `1 2` stays "yes, in 2 minutes".

Linear in the text (one pass to split it; at most `MAX_REPLY` characters are read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from shared.events.mobilization import Answer

MAX_REPLY: Final = 160  # one SMS; a longer text is read no further
MAX_ETA_MIN: Final = 24 * 60

YES: Final = frozenset({"1", "иә", "ия", "иа", "ие", "да", "yes", "y", "ok", "ок"})
NO: Final = frozenset({"2", "жоқ", "жок", "нет", "no", "n"})
MINUTES: Final = frozenset({"мин", "минут", "минута", "минуты", "min", "mins", "minutes", "m"})

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)


MAX_CHOICE: Final = 9  # call-outs listed when asking which one: one digit each

_YES_WORDS: Final = YES - {"1"}
_NO_WORDS: Final = NO - {"2"}


@dataclass(frozen=True, slots=True)
class SmsReply:
    answer: Answer
    eta_min: int | None = None  # the volunteer's own estimate, for a yes
    choice: int | None = None  # which of the call-outs listed to them (1-based), when they said


def read_reply(text: str) -> SmsReply | None:
    """The answer an SMS gives, or None when it is not one."""
    words = [word.casefold() for word in _WORDS.findall(text[:MAX_REPLY])]
    if not words:
        return None
    head, rest = words[0], words[1:]
    choice = None
    if (
        len(head) == 1
        and "1" <= head <= str(MAX_CHOICE)
        and rest
        and rest[0] in _YES_WORDS | _NO_WORDS
    ):
        choice, head, rest = int(head), rest[0], rest[1:]
    said = _answer(head, rest)
    return None if said is None else SmsReply(said.answer, said.eta_min, choice)


def _answer(head: str, rest: list[str]) -> SmsReply | None:
    if head in NO and not [word for word in rest if word not in MINUTES]:
        return SmsReply(Answer.DECLINE)
    if head not in YES:
        return None
    rest = [word for word in rest if word not in MINUTES]
    if not rest:
        return SmsReply(Answer.ACCEPT)
    if len(rest) == 1 and rest[0].isascii() and rest[0].isdigit():
        minutes = int(rest[0])
        if 0 < minutes <= MAX_ETA_MIN:
            return SmsReply(Answer.ACCEPT, eta_min=minutes)
    return None
