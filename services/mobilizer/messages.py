"""What matching says to people, in Kazakh, Russian and English (kk first; unknown languages get kk).

Reasons a volunteer was not asked, the names of roles, certificates and transport, and the lines of
an explanation. Dates and times are Kazakhstan local time, written `2026-04-02 07:00`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from services.mobilizer.eligibility import Finding, Reason
from shared.events.volunteers import CertificationType, Role, TransportMode
from shared.i18n import ROLE_NAMES, Language, normalize_language
from shared.reference import KAZAKHSTAN_TZ

Texts = dict[Language, str]

REASONS: Final[dict[Reason, Texts]] = {
    Reason.INACTIVE: {
        "kk": "Еріктінің тіркелгісі белсенді емес",
        "ru": "Учётная запись волонтёра неактивна",
        "en": "The volunteer's account is inactive",
    },
    Reason.OFF_DUTY: {
        "kk": "Кезекшіліктен тыс",
        "ru": "Вне дежурства",
        "en": "Off duty",
    },
    Reason.MINOR: {
        # Not the age itself: a dispatcher needs to know why, not how old a child is.
        "kk": "18 жасқа толмаған",
        "ru": "Младше 18 лет",
        "en": "Under 18",
    },
    Reason.NO_VALID_CERTIFICATE: {
        "kk": "«{role}» рөліне жарамды куәлік жоқ",
        "ru": "Нет действующего удостоверения для роли «{role}»",
        "en": "No valid certificate for the role “{role}”",
    },
    Reason.CERTIFICATE_EXPIRED: {
        "kk": "«{certification}» куәлігінің мерзімі {on} күні аяқталды",
        "ru": "Срок удостоверения «{certification}» истёк {on}",
        "en": "“{certification}” certificate expired on {on}",
    },
    Reason.CERTIFICATE_NOT_YET_VALID: {
        "kk": "«{certification}» куәлігі {on} бастап жарамды",
        "ru": "Удостоверение «{certification}» действует только с {on}",
        "en": "“{certification}” certificate is valid only from {on}",
    },
    Reason.UNSUITABLE_TRANSPORT: {
        "kk": "Көлігі «{role}» рөліне сай емес ({transport})",
        "ru": "Транспорт не подходит для роли «{role}» ({transport})",
        "en": "Their transport ({transport}) does not suit the role “{role}”",
    },
    Reason.QUIET_HOURS: {
        "kk": "Тыныштық сағаттары ({until} дейін)",
        "ru": "Тихие часы (до {until})",
        "en": "Quiet hours (until {until})",
    },
    Reason.COMMITTED_ELSEWHERE: {
        "kk": "Басқа оқиғаға тартылған",
        "ru": "Уже задействован на другом происшествии",
        "en": "Already committed to another incident",
    },
    Reason.ALREADY_IN_THIS_GROUP: {
        "kk": "Осы топқа қосылған",
        "ru": "Уже в этой группе",
        "en": "Already in this group",
    },
    Reason.TOO_MANY_CALLOUTS_TODAY: {
        "kk": "Соңғы 24 сағаттағы шақырулар шегіне жетті ({count}/{limit})",
        "ru": "Достигнут предел вызовов за 24 часа ({count}/{limit})",
        "en": "Reached the call-out limit for 24 hours ({count}/{limit})",
    },
    Reason.TOO_MANY_CALLOUTS_THIS_WEEK: {
        "kk": "Соңғы 7 күндегі шақырулар шегіне жетті ({count}/{limit})",
        "ru": "Достигнут предел вызовов за 7 дней ({count}/{limit})",
        "en": "Reached the call-out limit for 7 days ({count}/{limit})",
    },
    Reason.TOO_MANY_OFFERS_TODAY: {
        "kk": "Соңғы 24 сағатта тым көп ұсыныс алды ({count}/{limit}): демалсын",
        "ru": "За 24 часа получил слишком много приглашений ({count}/{limit}): пусть отдохнёт",
        "en": "Asked too often in the last 24 hours ({count}/{limit}): given a rest",
    },
    Reason.TOO_MANY_OFFERS_THIS_WEEK: {
        "kk": "Соңғы 7 күнде тым көп ұсыныс алды ({count}/{limit}): демалсын",
        "ru": "За 7 дней получил слишком много приглашений ({count}/{limit}): пусть отдохнёт",
        "en": "Asked too often in the last 7 days ({count}/{limit}): given a rest",
    },
    Reason.RESTING_AFTER_DEPLOYMENT: {
        "kk": "Ұзақ жұмыстан кейін демалуда ({until} дейін)",
        "ru": "Отдыхает после долгого выезда (до {until})",
        "en": "Resting after a long deployment (until {until})",
    },
}

CERTIFICATIONS: Final[dict[CertificationType, Texts]] = {
    CertificationType.FIRST_AID: {
        "kk": "Алғашқы көмек",
        "ru": "Первая помощь",
        "en": "First aid",
    },
    CertificationType.WATER_RESCUE: {
        "kk": "Суда құтқару",
        "ru": "Спасение на воде",
        "en": "Water rescue",
    },
    CertificationType.MOUNTAIN_RESCUE: {
        "kk": "Тауда құтқару",
        "ru": "Горноспасательная подготовка",
        "en": "Mountain rescue",
    },
    CertificationType.SEARCH_AND_RESCUE: {
        "kk": "Іздестіру-құтқару",
        "ru": "Поисково-спасательная подготовка",
        "en": "Search and rescue",
    },
    CertificationType.DRONE_PILOT: {
        "kk": "Дронды басқару",
        "ru": "Управление дроном",
        "en": "Drone piloting",
    },
    CertificationType.OFFROAD_DRIVER: {
        "kk": "Жол талғамайтын көлікті жүргізу",
        "ru": "Вождение внедорожника",
        "en": "Off-road driving",
    },
    CertificationType.PSYCHOLOGIST: {
        "kk": "Психологиялық көмек",
        "ru": "Психологическая помощь",
        "en": "Psychological support",
    },
    CertificationType.DOG_HANDLER: {"kk": "Кинология", "ru": "Кинология", "en": "Dog handling"},
    CertificationType.RADIO_OPERATOR: {
        "kk": "Радиобайланыс",
        "ru": "Радиосвязь",
        "en": "Radio operation",
    },
    CertificationType.FIREFIGHTING: {
        "kk": "Өрт сөндіру",
        "ru": "Пожаротушение",
        "en": "Firefighting",
    },
    CertificationType.TEAM_LEADER: {
        "kk": "Топты басқару",
        "ru": "Руководство группой",
        "en": "Team leadership",
    },
}

TRANSPORT: Final[dict[TransportMode, Texts]] = {
    TransportMode.FOOT: {"kk": "жаяу", "ru": "пешком", "en": "on foot"},
    TransportMode.BICYCLE: {"kk": "велосипед", "ru": "велосипед", "en": "bicycle"},
    TransportMode.CAR: {"kk": "жеңіл көлік", "ru": "легковой автомобиль", "en": "car"},
    TransportMode.OFFROAD: {
        "kk": "жол талғамайтын көлік",
        "ru": "внедорожник",
        "en": "off-road vehicle",
    },
}

EXPLANATIONS: Final[dict[str, Texts]] = {
    "asked": {
        "kk": "{wave}-толқында «{role}» рөліне шақырылды: жетуі ~{eta_min} мин, "
        "келісу ықтималдығы {p} %",
        "ru": "Приглашён в {wave}-й волне на роль «{role}»: прибытие ~{eta_min} мин, "
        "вероятность согласия {p} %",
        "en": "Asked in wave {wave} as {role}: arrives in ~{eta_min} min, {p} % likely to accept",
    },
    "ranked_below": {
        "kk": "Жарамды, бірақ «{role}» рөлінің тізімінде {rank}-орында, ал тек алғашқы "
        "{asked} адам шақырылды",
        "ru": "Подходит, но в списке на роль «{role}» на {rank}-м месте, а приглашены только "
        "первые {asked}",
        "en": "Eligible, but ranked {rank} for {role}, below the {asked} asked",
    },
    "outside_radius": {
        "kk": "Жарамды, бірақ іздеу радиусынан тыс: {distance_km} км, радиус {radius_km} км",
        "ru": "Подходит, но за пределами радиуса: {distance_km} км при радиусе {radius_km} км",
        "en": "Eligible, but outside the radius: {distance_km} km away, radius {radius_km} km",
    },
    "too_late": {
        "kk": "Жарамды, бірақ уақытында жете алмайды: жетуі ~{eta_min} мин, ал шақыруға "
        "болатын ең ұзақ уақыт {latest_min} мин",
        "ru": "Подходит, но не успеет: прибытие ~{eta_min} мин, а приглашают тех, кто "
        "прибудет не позже чем через {latest_min} мин",
        "en": "Eligible, but could not arrive in time: ~{eta_min} min away, and only people "
        "arriving within {latest_min} min are asked",
    },
    "not_yet_asked": {
        "kk": "Жарамды, әзірге шақырылмады",
        "ru": "Подходит, пока не приглашён",
        "en": "Eligible, not asked yet",
    },
    "not_eligible": {
        "kk": "Шақырылмады",
        "ru": "Не приглашён",
        "en": "Not asked",
    },
    "no_role": {
        "kk": "Бұл оқиғаға керек рөлдердің ешқайсысына жарамды куәлік жоқ ({roles})",
        "ru": "Нет действующего удостоверения ни для одной нужной роли ({roles})",
        "en": "No valid certificate for any role this incident needs ({roles})",
    },
}


def role_name(role: Role, language: str | None = None) -> str:
    """The role as everyone reads it (`shared.i18n.ROLE_NAMES`, shared with the call-outs)."""
    return _pick(ROLE_NAMES[role.value], language)


def certification_name(certification: CertificationType, language: str | None = None) -> str:
    return _pick(CERTIFICATIONS[certification], language)


def transport_name(mode: TransportMode, language: str | None = None) -> str:
    return _pick(TRANSPORT[mode], language)


def explanation_text(key: str, language: str | None = None, /, **values: object) -> str:
    return _pick(EXPLANATIONS[key], language).format(**values)


def describe(finding: Finding, language: str | None = None) -> str:
    """One finding as a sentence in `language` (kk, ru or en)."""
    return _pick(REASONS[finding.reason], language).format(
        role=role_name(finding.role, language) if finding.role else "",
        certification=(
            certification_name(finding.certification, language) if finding.certification else ""
        ),
        on=_day(finding.on),
        until=_moment(finding.until),
        count=finding.count,
        limit=finding.limit,
        age=finding.age_years,
        transport=transport_name(finding.transport_mode, language)
        if finding.transport_mode
        else "",
    )


def _pick(texts: Texts, language: str | None) -> str:
    return texts.get(normalize_language(language)) or texts["kk"]


def _day(day: date | None) -> str:
    return day.isoformat() if day else ""


def _moment(moment: datetime | None) -> str:
    return moment.astimezone(KAZAKHSTAN_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""
