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
from shared.i18n import ROLE_NAMES, Language, normalize_language

# All of Kazakhstan is UTC+5 (since 2024-03-01); a fixed offset spares loading the reference data.
LOCAL_TIME: Final = timezone(timedelta(hours=5), "UTC+5")

MAX_OFFER_SEGMENTS: Final = 3
MAX_STAND_DOWN_SEGMENTS: Final = 1
MAX_PUBLIC_URL_CHARS: Final = 24

INCIDENT_TYPES: Final[dict[IncidentType, dict[Language, str]]] = {
    IncidentType.FLOOD: {"kk": "су тасқыны", "ru": "паводок", "en": "flood"},
    IncidentType.WILDFIRE: {"kk": "табиғи өрт", "ru": "природный пожар", "en": "wildfire"},
    IncidentType.BLIZZARD: {"kk": "боран", "ru": "буран", "en": "blizzard"},
    IncidentType.MUDFLOW: {"kk": "сел", "ru": "сель", "en": "mudflow"},
    IncidentType.EARTHQUAKE: {"kk": "жер сілкінісі", "ru": "землетрясение", "en": "earthquake"},
    IncidentType.BUILDING_COLLAPSE: {
        "kk": "ғимарат құлауы",
        "ru": "обрушение здания",
        "en": "building collapse",
    },
    IncidentType.MISSING_PERSON: {
        "kk": "адам жоғалды",
        "ru": "пропал человек",
        "en": "missing person",
    },
    IncidentType.THUNDERSTORM: {"kk": "найзағай", "ru": "гроза", "en": "thunderstorm"},
    IncidentType.WIND: {"kk": "дауыл", "ru": "сильный ветер", "en": "strong wind"},
    IncidentType.HEAT: {"kk": "аптап ыстық", "ru": "аномальная жара", "en": "extreme heat"},
    IncidentType.COLD: {"kk": "қатты аяз", "ru": "сильный мороз", "en": "extreme cold"},
    IncidentType.DUST_STORM: {"kk": "шаңды дауыл", "ru": "пыльная буря", "en": "dust storm"},
    IncidentType.AVALANCHE: {"kk": "қар көшкіні", "ru": "лавина", "en": "avalanche"},
    IncidentType.ICE: {"kk": "көктайғақ", "ru": "гололёд", "en": "black ice"},
    IncidentType.LANDSLIDE: {"kk": "жер көшкіні", "ru": "оползень", "en": "landslide"},
    IncidentType.OTHER: {"kk": "төтенше жағдай", "ru": "ЧС", "en": "emergency"},
}


# A drill must never be mistaken for the real thing: the word comes first, in capitals.
EXERCISE_PREFIX: Final[dict[Language, str]] = {
    "kk": "ЖАТТЫҒУ! ",
    "ru": "УЧЕНИЯ! ",
    "en": "EXERCISE! ",
}

OFFER: Final[dict[Language, str]] = {
    # The last words are for push-button phones, which answer the SMS itself (the API's
    # `POST /api/v1/sms/inbound`): 1 yes, 2 no.
    "kk": "Jedel: {incident}. Рөліңіз: {role}. Жол ~{eta_min} мин. Жауап {deadline} дейін: {link} 1-иә 2-жоқ",
    "ru": "Jedel: {incident}. Ваша роль: {role}. Путь ~{eta_min} мин. Ответьте до {deadline}: {link} 1-да 2-нет",
    "en": "Jedel: {incident}. Your role: {role}. ETA ~{eta_min} min. Reply by {deadline}: {link} 1=yes 2=no",
}

STAND_DOWN: Final[dict[StandDownReason, dict[Language, str]]] = {
    StandDownReason.GROUP_COMPLETE: {
        "kk": "Jedel: топ жасақталды, рақмет — келудің қажеті жоқ.",
        "ru": "Jedel: группа собрана, спасибо — приезжать не нужно.",
        "en": "Jedel: the group is complete, thank you - no need to come.",
    },
    StandDownReason.INCIDENT_CANCELLED: {
        "kk": "Jedel: шақыру тоқтатылды, рақмет — келудің қажеті жоқ.",
        "ru": "Jedel: вызов отменён, спасибо — приезжать не нужно.",
        "en": "Jedel: the call-out is cancelled, thank you - no need to come.",
    },
    StandDownReason.INCIDENT_EXPIRED: {
        "kk": "Jedel: шақыру аяқталды, рақмет — келудің қажеті жоқ.",
        "ru": "Jedel: вызов завершён, спасибо — приезжать не нужно.",
        "en": "Jedel: the call-out has ended, thank you - no need to come.",
    },
    StandDownReason.INCIDENT_RESOLVED: {
        "kk": "Jedel: іздеу аяқталды, рақмет — келудің қажеті жоқ.",
        "ru": "Jedel: поиск завершён, спасибо — приезжать не нужно.",
        "en": "Jedel: the search is over, thank you - no need to come.",
    },
    StandDownReason.GROUP_REDUCED: {
        "kk": "Jedel: топ кішірейтілді, рақмет — келудің қажеті жоқ.",
        "ru": "Jedel: группу сократили, спасибо — приезжать не нужно.",
        "en": "Jedel: the group was made smaller, thank you - no need to come.",
    },
    StandDownReason.ROLE_FILLED: {
        "kk": "Jedel: бұл рөлге адам табылды, рақмет — келудің қажеті жоқ.",
        "ru": "Jedel: на эту роль человек найден, спасибо — приезжать не нужно.",
        "en": "Jedel: this role has been filled, thank you - no need to come.",
    },
    StandDownReason.COMMITTED_ELSEWHERE: {
        "kk": "Jedel: сіз басқа топтасыз — бұл шақыруға келудің қажеті жоқ.",
        "ru": "Jedel: вы уже в другой группе — сюда приезжать не нужно.",
        "en": "Jedel: you are already in another group - no need to come here.",
    },
    StandDownReason.CALLED_OFF: {
        "kk": "Jedel: диспетчер шақыруды тоқтатты, рақмет — келудің қажеті жоқ.",
        "ru": "Jedel: диспетчер отменил вызов, спасибо — приезжать не нужно.",
        "en": "Jedel: the dispatcher called off the call-out, thank you - no need to come.",
    },
    StandDownReason.RELEASED: {
        "kk": "Jedel: диспетчер сізді босатты, рақмет — келудің қажеті жоқ.",
        "ru": "Jedel: диспетчер вас отпустил, спасибо — приезжать не нужно.",
        "en": "Jedel: the dispatcher released you from the group, thank you - no need to come.",
    },
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
MEMBER_RELEASED: Final[dict[Language, str]] = {
    "kk": "Jedel: {why}. Көмегіңізге рақмет — қайтуыңызға болады.",
    "ru": "Jedel: {why}. Спасибо за помощь — можно возвращаться.",
    "en": "Jedel: {why}. Thank you for your help - you can head back.",
}
ENDED_WHY: Final[dict[StandDownReason, dict[Language, str]]] = {
    StandDownReason.INCIDENT_CANCELLED: {
        "kk": "шақыру тоқтатылды",
        "ru": "вызов отменён",
        "en": "the call-out is cancelled",
    },
    StandDownReason.INCIDENT_EXPIRED: {
        "kk": "шақыру аяқталды",
        "ru": "вызов завершён",
        "en": "the call-out has ended",
    },
    StandDownReason.INCIDENT_RESOLVED: {
        "kk": "іздеу аяқталды",
        "ru": "поиск завершён",
        "en": "the search is over",
    },
    StandDownReason.CALLED_OFF: {
        "kk": "диспетчер тоқтатты",
        "ru": "диспетчер отменил сбор",
        "en": "the dispatcher called off the call-out",
    },
    StandDownReason.RELEASED: {
        "kk": "диспетчер босатты",
        "ru": "диспетчер вас отпустил",
        "en": "the dispatcher released you from the group",
    },
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
