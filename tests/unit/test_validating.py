"""`jedel validate`: what a CAP file becomes, in the dispatcher's language."""

from __future__ import annotations

from datetime import datetime

import pytest
from typer.testing import CliRunner

from services.cli.main import app
from services.cli.validating import verdict
from services.intake.settings import IntakeOptions, IntakeSettings
from shared.reference import KAZAKHSTAN_TZ
from tests.factories import CAP

ENCODINGS = CAP / "encodings"
NOW = datetime(2026, 3, 14, 6, 0, tzinfo=KAZAKHSTAN_TZ)  # while the wind alerts are live
KOSTANAY_DEPARTMENT = "dchs.kostanay@emer.gov.kz"


def wind(area_desc: str | None = None, *, sender: str | None = None) -> bytes:
    """The Russian wind alert; `area_desc` replaces its area by that name alone."""
    data = (ENCODINGS / "wind_kostanay_ru_utf8.xml").read_bytes()
    if area_desc is not None:
        head, _, rest = data.partition(b"<area>")
        _, _, after = rest.partition(b"</area>")
        data = head + f"<area><areaDesc>{area_desc}</areaDesc></area>".encode() + after
    if sender is not None:
        data = data.replace(b"cap@emer.gov.kz", sender.encode())
    return data


def settings(**options: object) -> IntakeSettings:
    return IntakeSettings(intake=IntakeOptions(**options))


def test_a_plain_alert_says_the_incident_it_becomes_in_kazakh() -> None:
    said = verdict(wind(), language="kk", settings=settings(), now=NOW)

    assert said.accepted
    assert said.lines[0].startswith("Жарамды CAP 1.2: Alert (Actual), жіберуші")
    assert said.lines[1] == ("Оқиға болады: дауыл, басымдығы жоғары, 383 км², өңірлер: KZ-39")
    assert len(said.lines) == 2  # nothing to confirm, nothing unusual


def test_an_ambiguous_name_is_said_to_be_an_area_to_confirm() -> None:
    data = wind("Костанай", sender=KOSTANAY_DEPARTMENT)

    said = verdict(data, language="ru", settings=settings(), now=NOW)

    assert said.accepted
    assert "регионы: KZ-39" in said.lines[1]
    assert "Район требует уточнения: «Костанай» — несколько мест (2)" in said.lines


def test_an_unknown_sender_accepted_as_configured_is_said_to_be_unverified() -> None:
    data = wind(sender="someone@example.org")

    refused = verdict(data, language="en", settings=settings(), now=NOW)
    accepted = verdict(data, language="en", settings=settings(accept_unverified=True), now=NOW)

    assert not refused.accepted
    assert refused.lines[0].startswith("Refused (unknown_sender): Unknown sender.")
    assert accepted.accepted
    assert "Unverified sender: not in the registry, accepted as configured" in accepted.lines


def test_an_alert_beyond_the_border_is_said_to_be_outside_the_service_area() -> None:
    data = wind()
    start, end = data.index(b"<polygon>"), data.index(b"</polygon>")
    data = data[:start] + b"<polygon>51.70,55.00 51.70,55.30 51.90,55.30 51.70,55.00" + data[end:]

    said = verdict(data, language="en", settings=settings(), now=NOW)

    assert said.accepted
    assert "regions: —" in said.lines[1]
    assert any(line.startswith("Outside the service area") for line in said.lines)
    assert not any(line.startswith("Area to confirm") for line in said.lines)


def test_an_expired_alert_is_said_to_call_no_one() -> None:
    said = verdict(
        wind(), language="en", settings=settings(), now=datetime(2026, 4, 1, tzinfo=KAZAKHSTAN_TZ)
    )

    assert any(
        line.startswith("Already expired (2026-03-15T09:00:00+05:00)") for line in said.lines
    )


@pytest.mark.parametrize(
    ("language", "start"),
    [
        ("kk", "Қабылданбады (bad_encoding)"),
        ("ru", "Отклонено (bad_encoding)"),
        ("en", "Refused (bad_encoding)"),
    ],
)
def test_a_refusal_is_said_with_its_code_title_and_reason(language: str, start: str) -> None:
    data = (
        (ENCODINGS / "wind_kostanay_ru_windows1251.xml")
        .read_bytes()
        .replace(b' encoding="windows-1251"', b"")
    )

    said = verdict(data, language=language, settings=settings(), now=NOW)

    assert not said.accepted
    assert said.lines[0].startswith(start) and "not valid UTF-8" in said.lines[0]


def test_the_command_exits_non_zero_on_a_refusal_and_reads_legacy_encodings() -> None:
    runner = CliRunner()

    good = runner.invoke(
        app, ["validate", str(ENCODINGS / "wind_kostanay_ru_koi8r.xml"), "--lang", "en"]
    )
    bad = runner.invoke(
        app, ["validate", str(CAP / "hostile" / "billion_laughs.xml"), "--lang", "en"]
    )

    assert good.exit_code == 0, good.output
    assert "Becomes an incident: strong wind" in good.output
    assert bad.exit_code == 1
    assert "Refused (forbidden_dtd)" in bad.output
