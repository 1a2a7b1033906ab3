"""What volunteers read: every text in kk, ru and en, short enough for SMS, drills marked as drills."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from services.notifier.messages import (
    EXERCISE_PREFIX,
    INCIDENT_TYPES,
    MAX_OFFER_SEGMENTS,
    MAX_PUBLIC_URL_CHARS,
    MAX_STAND_DOWN_SEGMENTS,
    OFFER,
    STAND_DOWN,
    eta_minutes,
    local_clock,
    offer_text,
    sms_encoding,
    sms_segments,
    stand_down_text,
)
from shared.answer_links import TOKEN_CHARS
from shared.events.incidents import IncidentType
from shared.events.mobilization import StandDownReason
from shared.events.volunteers import Role
from shared.i18n import LANGUAGES, ROLE_NAMES

OFFER_ID = UUID("0b6f3a52-4c1e-4a8e-9d55-8f1d3c2b7a10")
LINK = f"https://jedel.kz/r/{OFFER_ID}"
LONGEST_LINK = f"{'https://jedel.example.kz'[:MAX_PUBLIC_URL_CHARS]}/r/{'T' * TOKEN_CHARS}"
EXPIRES_AT = datetime(2026, 4, 2, 9, 35, tzinfo=UTC)  # 14:35 in Kazakhstan
CYRILLIC = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі")


def offer(language: str | None = "kk", **overrides: object) -> str:
    values: dict[str, object] = {
        "language": language,
        "incident_type": IncidentType.FLOOD,
        "role": Role.MEDIC,
        "eta_s": 700,
        "expires_at": EXPIRES_AT,
        "answer_url": LINK,
        "is_exercise": False,
    }
    values.update(overrides)
    return offer_text(**values)  # type: ignore[arg-type]


def test_every_role_incident_type_and_reason_is_worded_in_every_language() -> None:
    for table in (INCIDENT_TYPES, ROLE_NAMES, STAND_DOWN):
        for key, wording in table.items():
            assert set(wording) == set(LANGUAGES), key
            assert all(text.strip() for text in wording.values()), key
    assert set(INCIDENT_TYPES) == set(IncidentType)
    assert set(ROLE_NAMES) == set(Role)
    assert set(STAND_DOWN) == set(StandDownReason)
    assert set(OFFER) == set(EXERCISE_PREFIX) == set(LANGUAGES)


def test_kazakh_offer_names_incident_role_eta_deadline_and_link() -> None:
    assert offer("kk") == (
        f"Jedel: су тасқыны. Рөліңіз: медик. Жол ~12 мин. Жауап 14:35 дейін: {LINK} 1-иә 2-жоқ"
    )


def test_russian_offer_names_incident_role_eta_deadline_and_link() -> None:
    text = offer("ru", role=Role.WATER_RESCUER, incident_type=IncidentType.MUDFLOW)
    assert text == (
        "Jedel: сель. Ваша роль: спасатель на воде. Путь ~12 мин. Ответьте до 14:35: "
        f"{LINK} 1-да 2-нет"
    )


def test_english_offer_names_incident_role_eta_deadline_and_link() -> None:
    text = offer("en", role=Role.DRIVER_4X4, incident_type=IncidentType.BLIZZARD)
    assert text == (
        f"Jedel: blizzard. Your role: 4x4 driver. ETA ~12 min. Reply by 14:35: {LINK} 1=yes 2=no"
    )


@pytest.mark.parametrize(
    ("language", "prefix"), [("kk", "ЖАТТЫҒУ! "), ("ru", "УЧЕНИЯ! "), ("en", "EXERCISE! ")]
)
def test_an_exercise_offer_starts_with_the_word_for_exercise(language: str, prefix: str) -> None:
    drill = offer(language, is_exercise=True)
    assert drill.startswith(prefix)
    assert drill.removeprefix(prefix) == offer(language)
    assert not offer(language).startswith(prefix)


@pytest.mark.parametrize("language", [None, "", "de", "uz-Latn"])
def test_an_unknown_language_falls_back_to_kazakh(language: str | None) -> None:
    assert offer(language) == offer("kk")
    assert stand_down_text(language=language, reason=StandDownReason.GROUP_COMPLETE) == (
        "Jedel: топ жасақталды, рақмет — келудің қажеті жоқ."
    )


def test_a_regional_tag_uses_its_language() -> None:
    assert offer("ru-KZ") == offer("ru")
    assert offer("KK") == offer("kk")


def test_stand_downs_say_why_and_that_nobody_needs_to_come() -> None:
    assert stand_down_text(language="ru", reason=StandDownReason.GROUP_COMPLETE) == (
        "Jedel: группа собрана, спасибо — приезжать не нужно."
    )
    assert stand_down_text(language="en", reason=StandDownReason.INCIDENT_CANCELLED) == (
        "Jedel: the call-out is cancelled, thank you - no need to come."
    )
    for reason in StandDownReason:
        assert "келудің қажеті жоқ" in stand_down_text(language="kk", reason=reason)
        assert "приезжать не нужно" in stand_down_text(language="ru", reason=reason)
        assert "no need to come" in stand_down_text(language="en", reason=reason)


def test_deadline_is_kazakhstan_time_and_eta_rounds_up() -> None:
    assert local_clock(datetime(2026, 4, 2, 20, 10, tzinfo=UTC)) == "01:10"
    assert local_clock(datetime(2026, 4, 2, 9, 35)) == "14:35"  # naive is UTC
    assert (eta_minutes(0), eta_minutes(60), eta_minutes(61), eta_minutes(719)) == (1, 1, 2, 12)


def test_every_offer_fits_the_sms_budget_even_the_longest() -> None:
    for language in LANGUAGES:
        for incident_type in IncidentType:
            for role in Role:
                text = offer(
                    language,
                    incident_type=incident_type,
                    role=role,
                    eta_s=99 * 60,
                    answer_url=LONGEST_LINK,
                    is_exercise=True,
                )
                assert sms_segments(text) <= MAX_OFFER_SEGMENTS, text


def test_a_typical_offer_takes_two_segments_in_cyrillic_and_one_in_english() -> None:
    assert sms_segments(offer("kk")) == 2
    assert sms_segments(offer("ru")) == 2
    assert sms_segments(offer("en")) == 1


def test_every_stand_down_fits_one_segment() -> None:
    for language in LANGUAGES:
        for reason in StandDownReason:
            for was_member in (False, True):
                text = stand_down_text(language=language, reason=reason, was_member=was_member)
                assert sms_segments(text) <= MAX_STAND_DOWN_SEGMENTS, text


def test_a_member_released_when_the_incident_ends_is_thanked_and_told_to_head_back() -> None:
    released = stand_down_text(
        language="ru", reason=StandDownReason.INCIDENT_RESOLVED, was_member=True
    )
    assert released == "Jedel: поиск завершён. Спасибо за помощь — можно возвращаться."
    english = stand_down_text(
        language="en", reason=StandDownReason.INCIDENT_CANCELLED, was_member=True
    )
    assert (
        english == "Jedel: the call-out is cancelled. Thank you for your help - you can head back."
    )
    kazakh = stand_down_text(
        language="kk", reason=StandDownReason.INCIDENT_EXPIRED, was_member=True
    )
    assert "Көмегіңізге рақмет" in kazakh and "келудің" not in kazakh


def test_english_texts_stay_in_gsm7_and_cyrillic_ones_are_cyrillic() -> None:
    for reason in StandDownReason:
        assert sms_encoding(stand_down_text(language="en", reason=reason)) == "gsm7"
    assert sms_encoding(offer("en", is_exercise=True)) == "gsm7"
    for language in ("kk", "ru"):
        assert CYRILLIC & set(offer(language).casefold())
        assert sms_encoding(offer(language)) == "ucs2"


def test_segment_counting_follows_gsm_and_ucs2_limits() -> None:
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 306) == 2
    assert sms_segments("a" * 307) == 3
    assert sms_segments("€" * 80) == 1  # extension characters cost two septets
    assert sms_segments("€" * 81) == 2
    assert sms_segments("қ" * 70) == 1
    assert sms_segments("қ" * 71) == 2
    assert sms_segments("қ" * 134) == 2
    assert sms_segments("қ" * 135) == 3
    assert sms_segments("a" * 100 + "қ") == 2  # one Kazakh letter turns it all into UCS-2


def test_a_member_a_dispatcher_released_or_called_off_is_told_who_decided() -> None:
    released = stand_down_text(language="ru", reason=StandDownReason.RELEASED, was_member=True)
    assert released == ("Jedel: диспетчер вас отпустил. Спасибо за помощь — можно возвращаться.")
    called_off = stand_down_text(language="en", reason=StandDownReason.CALLED_OFF)
    assert called_off == (
        "Jedel: the dispatcher called off the call-out, thank you - no need to come."
    )
    kazakh = stand_down_text(language="kk", reason=StandDownReason.CALLED_OFF, was_member=True)
    assert kazakh.startswith("Jedel: диспетчер тоқтатты.") and "қайтуыңызға" in kazakh
