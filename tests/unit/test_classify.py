import dataclasses
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.intake.cap import CapAlert, CapInfo, MappingError, classify, classify_alert, parse_cap
from services.intake.cap.classify import MAPPING_FILE, load_rules
from shared.events.incidents import IncidentType, Priority

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cap"


def make_info(**overrides: object) -> CapInfo:
    fields: dict[str, object] = {
        "language": "ru-RU",
        "categories": ("Met",),
        "event": "",
        "urgency": "Expected",
        "severity": "Severe",
        "certainty": "Likely",
        "event_codes": (),
        "headline": None,
        "description": None,
        "instruction": None,
        "sender_name": None,
        "web": None,
        "contact": None,
        "effective": None,
        "onset": None,
        "expires": None,
        "areas": (),
    }
    fields.update(overrides)
    return CapInfo(**fields)  # type: ignore[arg-type]


def make_alert(*infos: CapInfo) -> CapAlert:
    return CapAlert(
        version="1.2",
        identifier="KZ-TEST-1",
        sender="cap@emer.gov.kz",
        sent=datetime(2026, 4, 2, 6, 15, tzinfo=timezone(timedelta(hours=5))),
        status="Actual",
        msg_type="Alert",
        scope="Public",
        source=None,
        note=None,
        references=(),
        incidents=(),
        infos=infos,
    )


def type_of(event: str) -> IncidentType:
    return classify(make_info(event=event)).type


# --- type ---------------------------------------------------------------------------------------


def test_kazakh_event_name_maps_to_flood() -> None:
    result = classify(make_info(language="kk-KZ", event="Су тасқыны"))

    assert result.type is IncidentType.FLOOD
    assert result.matched_by == "keyword 'су тасқын*' in event"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("Су тасқыны қаупі", IncidentType.FLOOD),
        ("Дала өрті", IncidentType.WILDFIRE),
        ("Орман өртінің қаупі", IncidentType.WILDFIRE),
        ("Қарлы боран", IncidentType.BLIZZARD),
        ("Сел қаупі", IncidentType.MUDFLOW),
        ("Жер сілкінісі", IncidentType.EARTHQUAKE),
        ("Ғимараттың құлауы", IncidentType.BUILDING_COLLAPSE),
        ("Жоғалған адамды іздеу", IncidentType.MISSING_PERSON),
    ],
)
def test_kazakh_events(event: str, expected: IncidentType) -> None:
    assert type_of(event) is expected


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("Паводок", IncidentType.FLOOD),
        ("Угроза паводка", IncidentType.FLOOD),
        ("Половодье", IncidentType.FLOOD),
        ("Наводнение", IncidentType.FLOOD),
        ("Степной пожар", IncidentType.WILDFIRE),
        ("Метель", IncidentType.BLIZZARD),
        ("Сильный буран", IncidentType.BLIZZARD),
        ("Сель", IncidentType.MUDFLOW),
        ("Угроза схода селя", IncidentType.MUDFLOW),
        ("Селевой поток", IncidentType.MUDFLOW),
        ("Землетрясение", IncidentType.EARTHQUAKE),
        ("Обрушение здания", IncidentType.BUILDING_COLLAPSE),
        ("Пропал ребёнок", IncidentType.MISSING_PERSON),
        ("Пропавший без вести", IncidentType.MISSING_PERSON),
    ],
)
def test_russian_events(event: str, expected: IncidentType) -> None:
    assert type_of(event) is expected


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("Flood Warning", IncidentType.FLOOD),
        ("Flash flooding", IncidentType.FLOOD),
        ("Wildfire", IncidentType.WILDFIRE),
        ("Steppe fire", IncidentType.WILDFIRE),
        ("Blizzard", IncidentType.BLIZZARD),
        ("Snowstorm", IncidentType.BLIZZARD),
        ("Mudflow", IncidentType.MUDFLOW),
        ("Earthquake", IncidentType.EARTHQUAKE),
        ("Building collapse", IncidentType.BUILDING_COLLAPSE),
        ("Missing person", IncidentType.MISSING_PERSON),
    ],
)
def test_english_events(event: str, expected: IncidentType) -> None:
    assert type_of(event) is expected


def test_matching_ignores_case() -> None:
    assert type_of("ПАВОДОК НА РЕКЕ ТОБОЛ") is IncidentType.FLOOD
    assert type_of("FLOOD") is IncidentType.FLOOD


def test_kazakh_typed_with_latin_look_alikes_still_matches() -> None:
    assert type_of("Жер сiлкiнiсi") is IncidentType.EARTHQUAKE  # Latin i for Kazakh і


def test_compatibility_forms_are_normalised() -> None:
    assert type_of("Ｆｌｏｏｄ") is IncidentType.FLOOD  # full-width letters


def test_a_village_is_not_a_mudflow() -> None:
    assert type_of("Пожар в селе Каменка") is IncidentType.WILDFIRE
    assert type_of("Сельский сход") is IncidentType.OTHER
    assert type_of("Отключение электричества в поселке") is IncidentType.OTHER


def test_a_mudflow_torrent_is_not_a_flood() -> None:
    assert type_of("Сел тасқыны") is IncidentType.MUDFLOW


def test_a_person_lost_in_a_blizzard_is_a_search() -> None:
    assert type_of("Пропал человек во время бурана") is IncidentType.MISSING_PERSON


def test_fire_inside_a_longer_word_is_not_a_fire() -> None:
    assert type_of("Firefighters' day") is IncidentType.OTHER


def test_red_flag_fire_weather_code_is_not_a_fire() -> None:
    assert classify(make_info(event_codes=(("SAME", "FWW"),))).type is IncidentType.OTHER


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("FLW", IncidentType.FLOOD),
        ("FFW", IncidentType.FLOOD),
        ("FRW", IncidentType.WILDFIRE),
        ("WSW", IncidentType.BLIZZARD),
        ("BZW", IncidentType.BLIZZARD),
        ("EQW", IncidentType.EARTHQUAKE),
    ],
)
def test_same_event_codes(code: str, expected: IncidentType) -> None:
    result = classify(make_info(event_codes=(("SAME", code),)))

    assert result.type is expected
    assert result.matched_by == f"eventCode SAME={code}"


def test_event_code_wins_over_the_event_text() -> None:
    info = make_info(event="Паводок", event_codes=(("SAME", "FRW"),))

    assert classify(info).type is IncidentType.WILDFIRE


def test_event_code_matching_ignores_case() -> None:
    info = make_info(event_codes=(("same", "flw"),))

    assert classify(info).type is IncidentType.FLOOD


def test_unknown_event_code_falls_through_to_keywords() -> None:
    info = make_info(event="Метель", event_codes=(("SAME", "XYZ"), ("profile:other", "1")))

    assert classify(info).type is IncidentType.BLIZZARD


@pytest.mark.parametrize("incident_type", list(IncidentType))
def test_our_own_event_code_can_name_every_type(incident_type: IncidentType) -> None:
    info = make_info(event="Паводок", event_codes=(("JEDEL", incident_type.value),))

    assert classify(info).type is incident_type


T = IncidentType


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        # Kazakh
        ("Найзағай", T.THUNDERSTORM), ("Бұршақ жаууы", T.THUNDERSTORM),
        ("Дауыл", T.WIND), ("Қатты жел", T.WIND), ("Аптап ыстық", T.HEAT), ("Қатты аяз", T.COLD),
        ("Шаңды дауыл", T.DUST_STORM), ("Шаңды боран", T.DUST_STORM),
        ("Қар көшкіні қаупі", T.AVALANCHE), ("Көктайғақ", T.ICE), ("Жер көшкіні", T.LANDSLIDE),
        ("Көшкін", T.LANDSLIDE), ("Мұз кептелісі", T.FLOOD),
        # Russian
        ("Гроза", T.THUNDERSTORM), ("Сильные грозы", T.THUNDERSTORM),
        ("Грозовой ливень, град", T.THUNDERSTORM), ("Сильный ветер", T.WIND),
        ("Штормовое предупреждение", T.WIND), ("Ураган", T.WIND), ("Шквалистый ветер", T.WIND),
        ("Аномальная жара", T.HEAT), ("Сильный мороз", T.COLD), ("Заморозки", T.COLD),
        ("Пыльная буря", T.DUST_STORM), ("Снежная лавина", T.AVALANCHE),
        ("Лавиноопасность", T.AVALANCHE), ("Гололёд", T.ICE), ("Гололедица", T.ICE),
        ("Ледяной дождь", T.ICE), ("Оползень", T.LANDSLIDE), ("Оползни", T.LANDSLIDE),
        ("Камнепад", T.LANDSLIDE), ("Ледоход и заторы льда", T.FLOOD), ("Цунами", T.FLOOD),
        # English
        ("Severe Thunderstorm Warning", T.THUNDERSTORM), ("Lightning", T.THUNDERSTORM),
        ("High Wind Warning", T.WIND), ("Gale Warning", T.WIND), ("Tornado Warning", T.WIND),
        ("Storm", T.WIND), ("Excessive Heat Warning", T.HEAT), ("Heat Advisory", T.HEAT),
        ("Extreme Cold Warning", T.COLD), ("Wind Chill Advisory", T.COLD),
        ("Frost Advisory", T.COLD), ("Dust Storm Warning", T.DUST_STORM),
        ("Avalanche Warning", T.AVALANCHE), ("Ice Storm Warning", T.ICE),
        ("Freezing Rain Advisory", T.ICE), ("Landslide", T.LANDSLIDE),
        ("Winter Storm Warning", T.BLIZZARD), ("Storm Surge Warning", T.FLOOD),
        ("Ice Jam Flood", T.FLOOD), ("Tsunami Warning", T.FLOOD),
    ],
)  # fmt: skip
def test_hazard_words(event: str, expected: IncidentType) -> None:
    assert type_of(event) is expected


@pytest.mark.parametrize(
    "event",
    ["Паводок грозит селу", "Ветрянка", "Бурение скважин", "Ветеран пропал без вести"],
)
def test_hazard_words_do_not_catch_other_words(event: str) -> None:
    """Threatens ("грозит"), chickenpox, drilling: none is a thunderstorm, wind or storm."""
    assert type_of(event) not in {T.THUNDERSTORM, T.WIND}


@pytest.mark.parametrize(
    ("code", "expected"),
    [("SVR", T.THUNDERSTORM), ("HWW", T.WIND), ("TOR", T.WIND), ("DSW", T.DUST_STORM),
     ("AVW", T.AVALANCHE), ("TSW", T.FLOOD)],
)  # fmt: skip
def test_same_codes_for_the_hazards(code: str, expected: IncidentType) -> None:
    result = classify(make_info(event="Warning", event_codes=(("SAME", code),)))

    assert result.type is expected


def test_only_the_start_of_a_very_long_event_is_searched() -> None:
    assert type_of("x " * 5_000 + "Flood") is T.OTHER
    assert type_of("Flood " + "x " * 5_000) is T.FLOOD


def test_fire_category_falls_back_to_wildfire() -> None:
    result = classify(make_info(event="Тревога", categories=("Safety", "Fire")))

    assert result.type is IncidentType.WILDFIRE
    assert result.matched_by == "category Fire"


def test_unknown_event_becomes_other() -> None:
    result = classify(make_info(event="Отключение электроэнергии", categories=("Infra",)))

    assert result.type is IncidentType.OTHER
    assert result.matched_by == "nothing matched"


# --- priority -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "urgency", "certainty", "expected"),
    [
        ("Extreme", "Immediate", "Observed", Priority.CRITICAL),
        ("Extreme", "Immediate", "Likely", Priority.CRITICAL),
        ("Severe", "Immediate", "Observed", Priority.CRITICAL),
        ("Severe", "Immediate", "Likely", Priority.HIGH),
        ("Severe", "Expected", "Likely", Priority.HIGH),
        ("Extreme", "Expected", "Likely", Priority.HIGH),
        ("Extreme", "Future", "Possible", Priority.MEDIUM),
        ("Moderate", "Immediate", "Observed", Priority.MEDIUM),
        ("Moderate", "Expected", "Possible", Priority.MEDIUM),
        ("Unknown", "Unknown", "Unknown", Priority.MEDIUM),
        ("Moderate", "Future", "Possible", Priority.LOW),
        ("Minor", "Immediate", "Observed", Priority.LOW),
        ("Extreme", "Past", "Observed", Priority.LOW),
        ("Extreme", "Immediate", "Unlikely", Priority.LOW),
    ],
)
def test_priority_from_severity_urgency_and_certainty(
    severity: str, urgency: str, certainty: str, expected: Priority
) -> None:
    info = make_info(severity=severity, urgency=urgency, certainty=certainty)

    assert classify(info).priority is expected


def test_a_word_outside_cap_counts_as_unknown() -> None:
    odd = make_info(severity="Catastrophic", urgency="Now", certainty="Sure")
    unknown = make_info(severity="Unknown", urgency="Unknown", certainty="Unknown")

    assert classify(odd).priority is classify(unknown).priority


# --- whole alerts -------------------------------------------------------------------------------


def test_alert_takes_its_most_urgent_info() -> None:
    calm = make_info(event="Метель", severity="Moderate")
    urgent = make_info(event="Паводок", severity="Extreme", urgency="Immediate")

    result = classify_alert(make_alert(calm, urgent))

    assert (result.type, result.priority) == (IncidentType.FLOOD, Priority.CRITICAL)


def test_alert_prefers_a_known_type_among_equally_urgent_infos() -> None:
    vague = make_info(event="Төтенше жағдай")
    known = make_info(event="Паводок")

    assert classify_alert(make_alert(vague, known)).type is IncidentType.FLOOD


def test_alert_without_info_is_other_and_low() -> None:
    result = classify_alert(make_alert())

    assert (result.type, result.priority, result.matched_by) == (
        IncidentType.OTHER,
        Priority.LOW,
        "no info",
    )


@pytest.mark.parametrize(
    ("name", "expected_type", "expected_priority"),
    [
        ("flood_kostanay_12.xml", IncidentType.FLOOD, Priority.HIGH),
        ("flood_update_12.xml", IncidentType.FLOOD, Priority.CRITICAL),
        ("steppe_fire_11.xml", IncidentType.WILDFIRE, Priority.CRITICAL),
        ("blizzard_geocode_12.xml", IncidentType.BLIZZARD, Priority.HIGH),
        ("exercise_12.xml", IncidentType.MUDFLOW, Priority.CRITICAL),
    ],
)
def test_sample_alerts_are_classified(
    name: str, expected_type: IncidentType, expected_priority: Priority
) -> None:
    alert = parse_cap((FIXTURES / name).read_bytes())

    result = classify_alert(alert)

    assert (result.type, result.priority) == (expected_type, expected_priority)


def test_every_language_block_of_the_flood_agrees() -> None:
    alert = parse_cap((FIXTURES / "flood_kostanay_12.xml").read_bytes())

    assert {classify(info).type for info in alert.infos} == {IncidentType.FLOOD}


# --- the mapping file ---------------------------------------------------------------------------


def mapping_with(tmp_path: Path, old: str, new: str) -> Path:
    text = MAPPING_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "mapping.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_shipped_mapping_loads() -> None:
    rules = load_rules()

    assert rules.keywords
    assert ("same", "flw") in rules.event_codes


def test_unknown_type_name_in_the_mapping_is_a_clear_error(tmp_path: Path) -> None:
    path = mapping_with(tmp_path, "FRW: wildfire", "FRW: wildfires")

    with pytest.raises(MappingError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert str(path) in message
    assert "event_codes.SAME.FRW" in message
    assert "'wildfire'" in message  # pydantic lists the allowed names


def test_unknown_keyword_type_is_refused(tmp_path: Path) -> None:
    path = mapping_with(tmp_path, "- type: earthquake", "- type: quake")

    with pytest.raises(MappingError, match=r"keywords\.1\.type"):
        load_rules(path)


def test_misspelt_cap_category_is_refused(tmp_path: Path) -> None:
    path = mapping_with(tmp_path, "Fire: wildfire", "Fires: wildfire")

    with pytest.raises(MappingError, match="categories"):
        load_rules(path)


def test_every_cap_word_needs_points(tmp_path: Path) -> None:
    path = mapping_with(tmp_path, "Extreme: 4, ", "")

    with pytest.raises(MappingError, match="severity has no points for Extreme"):
        load_rules(path)


def test_thresholds_must_descend(tmp_path: Path) -> None:
    path = mapping_with(tmp_path, "critical: 7", "critical: 3")

    with pytest.raises(MappingError, match="critical >= high >= medium"):
        load_rules(path)


def test_unexpected_key_in_the_mapping_is_refused(tmp_path: Path) -> None:
    path = mapping_with(tmp_path, "categories:", "categorys:")

    with pytest.raises(MappingError):
        load_rules(path)


def test_broken_yaml_is_a_mapping_error(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("event_codes: [unclosed", encoding="utf-8")

    with pytest.raises(MappingError, match=re.escape(str(path))):
        load_rules(path)


def test_classification_uses_the_rules_it_is_given(tmp_path: Path) -> None:
    rules = load_rules(mapping_with(tmp_path, "Fire: wildfire", "Fire: other"))
    info = make_info(event="Тревога", categories=("Fire",))

    assert classify(info, rules=rules).type is IncidentType.OTHER
    assert classify(info).type is IncidentType.WILDFIRE


def test_classification_is_a_frozen_value() -> None:
    result = classify(make_info(event="Паводок"))

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.priority = Priority.LOW  # type: ignore[misc]


def test_an_event_worded_again_is_classified_the_same_after_the_memory_is_full() -> None:
    # `Rules.keyword_in` remembers a thousand wordings, then forgets them all.
    assert type_of("Паводок на реке Тобол") is IncidentType.FLOOD
    for n in range(1_100):
        assert type_of(f"Происшествие номер {n}") is not IncidentType.FLOOD
    assert type_of("Паводок на реке Тобол") is IncidentType.FLOOD
    assert type_of("Степной пожар") is IncidentType.WILDFIRE
