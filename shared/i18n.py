"""User-facing wording in Kazakh, Russian and English (kk first); lookups fall back to kk."""

from __future__ import annotations

import functools
from typing import Final, Literal

Language = Literal["kk", "ru", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("kk", "ru", "en")

# Roles, keyed by `Role` values: the one wording everyone reads — volunteers in call-outs (SMS,
# the answer page), dispatchers in explanations. Lower case: it sits inside sentences; "4x4" with
# a Latin x, so an English SMS stays in the GSM alphabet.
ROLE_NAMES: Final[dict[str, dict[Language, str]]] = {
    "leader": {"kk": "топ жетекшісі", "ru": "руководитель группы", "en": "team leader"},
    "medic": {"kk": "медик", "ru": "медик", "en": "medic"},
    "water_rescuer": {
        "kk": "суда құтқарушы",
        "ru": "спасатель на воде",
        "en": "water rescuer",
    },
    "mountain_rescuer": {
        "kk": "тау құтқарушысы",
        "ru": "горный спасатель",
        "en": "mountain rescuer",
    },
    "searcher": {"kk": "іздестіруші", "ru": "поисковик", "en": "searcher"},
    "drone_pilot": {"kk": "дрон операторы", "ru": "оператор дрона", "en": "drone pilot"},
    "driver_4x4": {
        "kk": "жол талғамайтын көлік жүргізушісі",
        "ru": "водитель внедорожника",
        "en": "4x4 driver",
    },
    "psychologist": {"kk": "психолог", "ru": "психолог", "en": "psychologist"},
    "dog_handler": {"kk": "кинолог", "ru": "кинолог", "en": "dog handler"},
    "radio_operator": {"kk": "радист", "ru": "радист", "en": "radio operator"},
    "firefighter": {"kk": "өрт сөндіруші", "ru": "пожарный", "en": "firefighter"},
}

CATALOGUE: Final[dict[str, dict[Language, str]]] = {
    "missing_person.event": {
        "kk": "Адам жоғалды",
        "ru": "Пропал человек",
        "en": "Missing person",
    },
    "missing_person.headline": {
        "kk": "{name}, {age} жаста, соңғы рет көрген жері: {place}",
        "ru": "{name}, {age} лет, последний раз видели: {place}",
        "en": "{name}, aged {age}, last seen: {place}",
    },
    "rejection.too_large": {
        "kk": "Хабарлама тым үлкен",
        "ru": "Сообщение слишком большое",
        "en": "Message too large",
    },
    "rejection.malformed_xml": {
        "kk": "XML бүлінген",
        "ru": "Повреждённый XML",
        "en": "Malformed XML",
    },
    "rejection.forbidden_dtd": {
        "kk": "DTD мен сыртқы нысандарға тыйым салынған",
        "ru": "DTD и внешние сущности запрещены",
        "en": "DTDs and external entities are forbidden",
    },
    "rejection.not_cap": {
        "kk": "Бұл CAP хабарламасы емес",
        "ru": "Это не сообщение CAP",
        "en": "Not a CAP message",
    },
    "rejection.schema_violation": {
        "kk": "CAP схемасына сәйкес келмейді",
        "ru": "Не соответствует схеме CAP",
        "en": "Does not match the CAP schema",
    },
    "rejection.bad_polygon": {
        "kk": "Аумақтың көпбұрышы дұрыс емес",
        "ru": "Неверный многоугольник области",
        "en": "Invalid area polygon",
    },
    "rejection.bad_circle": {
        "kk": "Аумақтың шеңбері дұрыс емес",
        "ru": "Неверный круг области",
        "en": "Invalid area circle",
    },
    "rejection.bad_reference": {
        "kk": "Сілтеме дұрыс емес",
        "ru": "Неверная ссылка на сообщение",
        "en": "Invalid reference",
    },
    "rejection.unknown_geocode": {
        "kk": "Белгісіз аймақ коды",
        "ru": "Неизвестный код региона",
        "en": "Unknown region code",
    },
    "rejection.no_area": {
        "kk": "Хабарламада аумақ жоқ",
        "ru": "В сообщении нет области",
        "en": "The alert has no area",
    },
    "rejection.unknown_reference": {
        "kk": "Сілтеме белгісіз хабарламаға апарады",
        "ru": "Ссылка на неизвестное сообщение",
        "en": "Refers to an unknown alert",
    },
    "rejection.invalid_report": {
        "kk": "Жоғалған адам туралы хабарлама толық емес",
        "ru": "Неполное сообщение о пропавшем человеке",
        "en": "Incomplete missing-person report",
    },
    "rejection.unknown_sender": {
        "kk": "Жіберуші тізілімде жоқ",
        "ru": "Отправитель не зарегистрирован",
        "en": "Unknown sender",
    },
    "rejection.sender_suspended": {
        "kk": "Жіберушіні әкімші тоқтатқан",
        "ru": "Отправитель приостановлен администратором",
        "en": "Sender suspended by an administrator",
    },
    "rejection.sender_not_permitted": {
        "kk": "Жіберушіге бұл аймақты не бұл арнаны хабарлауға рұқсат жоқ",
        "ru": "Отправителю не разрешено оповещать этот регион или по этому каналу",
        "en": "Sender not permitted for this region or topic",
    },
    "rejection.not_original_sender": {
        "kk": "Оқиғаны тек оны ашқан жіберуші өзгерте не тоқтата алады",
        "ru": "Изменить или отменить происшествие может только открывший его отправитель",
        "en": "Only the original sender may update or cancel the incident",
    },
    "rejection.signature_required": {
        "kk": "Бұл жіберушінің хабарламасына электрондық қолтаңба қажет",
        "ru": "Сообщения этого отправителя должны быть подписаны",
        "en": "This sender's messages must be signed",
    },
    "rejection.bad_signature": {
        "kk": "Электрондық қолтаңба жарамсыз",
        "ru": "Электронная подпись недействительна",
        "en": "Invalid signature",
    },
    "rejection.sent_in_future": {
        "kk": "Хабарламаның уақыты болашақта",
        "ru": "Сообщение датировано будущим временем",
        "en": "Message dated in the future",
    },
    "rejection.bad_encoding": {
        "kk": "Хабарламаның кодталуы оқылмады",
        "ru": "Не удалось прочитать кодировку сообщения",
        "en": "Unreadable character encoding",
    },
    "rejection.too_complex": {
        "kk": "Хабарлама тым күрделі",
        "ru": "Сообщение слишком сложное",
        "en": "Message too complex",
    },
    "rejection.bad_datetime": {
        "kk": "Күні мен уақыты қате",
        "ru": "Неверные дата и время",
        "en": "Invalid date and time",
    },
    "priority.critical": {"kk": "шұғыл", "ru": "критический", "en": "critical"},
    "priority.high": {"kk": "жоғары", "ru": "высокий", "en": "high"},
    "priority.medium": {"kk": "орташа", "ru": "средний", "en": "medium"},
    "priority.low": {"kk": "төмен", "ru": "низкий", "en": "low"},
    "validate.valid": {
        "kk": "Жарамды CAP {version}: {msg_type} ({status}), жіберуші {sender}",
        "ru": "Корректный CAP {version}: {msg_type} ({status}), отправитель {sender}",
        "en": "Valid CAP {version}: {msg_type} ({status}) from {sender}",
    },
    "validate.becomes": {
        "kk": "Оқиға болады: {type}, басымдығы {priority}, {area} км², өңірлер: {regions}",
        "ru": "Станет инцидентом: {type}, приоритет {priority}, {area} км², регионы: {regions}",
        "en": "Becomes an incident: {type}, priority {priority}, {area} km², regions: {regions}",
    },
    "validate.area_to_confirm": {
        "kk": "Аумақты нақтылау керек: {why}",
        "ru": "Район требует уточнения: {why}",
        "en": "Area to confirm: {why}",
    },
    "validate.not_found": {"kk": "табылмады", "ru": "не найдено", "en": "not found"},
    "validate.several_places": {
        "kk": "бірнеше жер",
        "ru": "несколько мест",
        "en": "several places",
    },
    "validate.no_place": {
        "kk": "аумақ аталмаған",
        "ru": "район не назван",
        "en": "no area named",
    },
    "validate.unverified_sender": {
        "kk": "Жіберуші тексерілмеген: тізілімде жоқ, баптау бойынша қабылданады",
        "ru": "Отправитель не проверен: его нет в реестре, принимается по настройке",
        "en": "Unverified sender: not in the registry, accepted as configured",
    },
    "validate.signed": {
        "kk": "Электрондық қолтаңба тексерілді",
        "ru": "Электронная подпись проверена",
        "en": "Signature verified",
    },
    "validate.outside_service_area": {
        "kk": "Қызмет көрсету аумағынан тыс (Қазақстаннан тыс): тіркеледі және хабарланады, "
        "ешкім шақырылмайды",
        "ru": "Вне зоны обслуживания (за пределами Казахстана): записывается и объявляется, "
        "никого не вызывают",
        "en": "Outside the service area (outside Kazakhstan): recorded and announced; nobody "
        "is called out",
    },
    "validate.clipped": {
        "kk": "Аумақтың бір бөлігі Қазақстаннан тыс: шекара бойынша қиылды",
        "ru": "Часть района за пределами Казахстана: обрезана по границе",
        "en": "Part of the area lies outside Kazakhstan: clipped to the border",
    },
    "validate.expired": {
        "kk": "Мерзімі өтіп кеткен ({expires}): тіркеледі, ешкім шақырылмайды",
        "ru": "Срок истёк ({expires}): записывается, никого не вызывают",
        "en": "Already expired ({expires}): recorded; nobody is called out",
    },
    "validate.not_announced": {
        "kk": "Мәртебесі {status}: сақталады, бірақ хабарланбайды",
        "ru": "Статус {status}: сохраняется, но не объявляется",
        "en": "Status {status}: kept, not announced",
    },
    "validate.cancel": {
        "kk": "Бас тарту: сілтеме жасалған {count} хабарламаның оқиғаларын жабады",
        "ru": "Отмена: закрывает инциденты {count} упомянутых сообщений",
        "en": "Cancel: closes the incidents of {count} referenced message(s)",
    },
    "validate.recorded": {
        "kk": "Тек тіркеледі: оқиғаны өзгертпейді",
        "ru": "Только записывается: инцидент не меняется",
        "en": "Recorded only: no incident changes",
    },
    "validate.refused": {
        "kk": "Қабылданбады ({code}): {title}. {reason}",
        "ru": "Отклонено ({code}): {title}. {reason}",
        "en": "Refused ({code}): {title}. {reason}",
    },
    "rejection.internal_error": {
        "kk": "Хабарламаны өңдеу мүмкін болмады",
        "ru": "Сообщение не удалось обработать",
        "en": "The message could not be processed",
    },
}


@functools.lru_cache(maxsize=256)
def normalize_language(tag: str | None) -> Language:
    """`kk-KZ` → `kk`; anything Jedel does not speak → `kk`. (Cached: every rendered line of an
    explanation asks, thousands per wave.)"""
    primary = (tag or "").split("-")[0].strip().casefold()
    return primary if primary in LANGUAGES else "kk"


def translate(key: str, language: str | None = None, /, **values: object) -> str:
    entry = CATALOGUE[key]
    text = entry.get(normalize_language(language)) or entry["kk"]
    return text.format(**values) if values else text
