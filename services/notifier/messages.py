"""What a volunteer reads: offer and stand-down texts in Kazakh, Russian and English (kk first).

The same text goes by SMS and to the in-app inbox, so it is written for SMS:
- One Cyrillic letter (and every Kazakh one: ә ғ қ ң ө ұ ү һ і) makes the whole SMS UCS-2, 70
  characters for a single segment and 67 per segment once it is split. GSM-7 (the English texts)
  gives 160, or 153 per segment.
- An offer carries the answer link `{public_url}/r/{token}`, and the signed token alone is 40
  characters (`shared.answer_links`), so a Kazakh or Russian offer cannot fit one segment. Offers
  are kept to at most `MAX_OFFER_SEGMENTS` segments (typically two) for any role and incident type with a public URL of
  up to `MAX_PUBLIC_URL_CHARS`; stand-downs fit one segment in every language.
- No place name and no CAP headline in the SMS: both are unbounded. The in-app inbox has them.
- English texts stay within GSM-7 (a plain hyphen, never an em dash).

Unknown languages fall back to Kazakh.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Final, Literal

from shared.events.incidents import IncidentType
from shared.events.mobilization import StandDownReason
from shared.events.volunteers import Role
from shared.i18n import CATALOGUE, ROLE_NAMES, Language, normalize_language, words_under

# All of Kazakhstan is UTC+5 (since 2024-03-01); a fixed offset spares loading the reference data.
LOCAL_TIME: Final = timezone(timedelta(hours=5), "UTC+5")

MAX_OFFER_SEGMENTS: Final = 3
MAX_STAND_DOWN_SEGMENTS: Final = 1
MAX_PUBLIC_URL_CHARS: Final = 24

# The words are in the shared catalogue (`shared/locale/<kk|ru|en>/LC_MESSAGES/jedel.po`):
# incident types `incident_type.<type>`, call-outs `callout.*`; these tables are its views.
INCIDENT_TYPES: Final[dict[IncidentType, dict[Language, str]]] = {
    kind: CATALOGUE[f"incident_type.{kind.value}"] for kind in IncidentType
}

# A drill must never be mistaken for the real thing: the word comes first, in capitals.
EXERCISE_PREFIX: Final[dict[Language, str]] = {
    language: f"{word} " for language, word in CATALOGUE["callout.exercise"].items()
}

# Its last words are for push-button phones, which answer the SMS itself (the API's
# `POST /api/v1/sms/inbound`): 1 yes, 2 no.
OFFER: Final[dict[Language, str]] = CATALOGUE["callout.offer"]

STAND_DOWN: Final[dict[StandDownReason, dict[Language, str]]] = {
    reason: CATALOGUE[f"callout.stand_down.{reason.value}"] for reason in StandDownReason
}


def offer_text(
    *,
    language: str | None,
    incident_type: IncidentType,
    role: Role,
    eta_s: int,
    expires_at: datetime,
    answer_url: str,
    is_exercise: bool,
) -> str:
    """The call-out: what happened, the volunteer's role, the ETA, answer by when (UTC+5), where."""
    lang = normalize_language(language)
    text = OFFER[lang].format(
        incident=INCIDENT_TYPES[incident_type][lang],
        role=ROLE_NAMES[role][lang],
        eta_min=eta_minutes(eta_s),
        deadline=local_clock(expires_at),
        link=answer_url,
    )
    return EXERCISE_PREFIX[lang] + text if is_exercise else text


# To someone who had accepted and may be on the way or on scene: the incident ended.
MEMBER_RELEASED: Final[dict[Language, str]] = CATALOGUE["callout.member_released"]
ENDED_WHY: Final[dict[StandDownReason, dict[Language, str]]] = {
    StandDownReason(reason): texts for reason, texts in words_under("callout.ended.").items()
}


def stand_down_text(
    *, language: str | None, reason: StandDownReason, was_member: bool = False
) -> str:
    """Why the volunteer is no longer needed; a member released by the incident's end is thanked
    and told they can head back rather than that they need not come."""
    lang = normalize_language(language)
    if was_member and reason in ENDED_WHY:
        return MEMBER_RELEASED[lang].format(why=ENDED_WHY[reason][lang])
    return STAND_DOWN[reason][lang]


def eta_minutes(eta_s: int) -> int:
    """Whole minutes, rounded up: "~0 min" would send nobody running."""
    return max(1, math.ceil(eta_s / 60))


def local_clock(moment: datetime) -> str:
    """HH:MM in Kazakhstan; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TIME).strftime("%H:%M")


# GSM 03.38: the basic table costs one septet per character, the extension table two.
_GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")

SmsEncoding = Literal["gsm7", "ucs2"]


def sms_encoding(text: str) -> SmsEncoding:
    return "gsm7" if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text) else "ucs2"


def sms_segments(text: str) -> int:
    """How many SMS segments the text costs (concatenated segments lose room to their header)."""
    if sms_encoding(text) == "gsm7":
        units = sum(2 if c in _GSM7_EXTENSION else 1 for c in text)
        single, multi = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if units <= single else math.ceil(units / multi)
