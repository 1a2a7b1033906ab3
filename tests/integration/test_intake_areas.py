"""Alerts as they are really sent, for real: on the broker and PostGIS, CAP in legacy encodings,
areas named in Kazakh and Russian instead of drawn, names that need a dispatcher to confirm
them, and alerts from beyond Kazakhstan's borders."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import async_playwright, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.area_confirmation import confirmed_area_update
from services.api.auth.principals import AccountRole
from services.api.main import create_app
from services.api.settings import ApiSettings
from services.intake.main import IntakeService
from shared.broker_access import ADMIN
from shared.events import topics
from shared.kafka import build_broker
from shared.reference import KAZAKHSTAN_TZ
from shared.settings import DatabaseSettings, KafkaSettings, RedisSettings
from tests.accounts import headers_for
from tests.browsers import chromium, console_page
from tests.factories import CAP, FakeClock, new_run
from tests.kafka_tail import Record, Tail, dead_letter_of, eventually
from tests.running import running_intake, served_api

pytestmark = pytest.mark.integration

ENCODINGS = CAP / "encodings"
THIRD_PARTY = CAP / "thirdparty"
# The wind alerts are sent 2026-03-14 05:40 (+05:00) and expire the next morning.
NOW = datetime(2026, 3, 14, 6, 0, tzinfo=KAZAKHSTAN_TZ)
KOSTANAY_DEPARTMENT = "dchs.kostanay@emer.gov.kz"  # registered for Kostanay Region only


@pytest.fixture(scope="module")
async def intake(
    database_settings: DatabaseSettings, kafka_settings: KafkaSettings, engine: AsyncEngine
) -> AsyncIterator[IntakeService]:
    async with running_intake(
        database_settings, kafka_settings, engine, clock=FakeClock(NOW)
    ) as service:
        yield service


@pytest.fixture(scope="module")
async def tail(kafka_settings: KafkaSettings, intake: IntakeService) -> AsyncIterator[Tail]:
    opened = await Tail.open(kafka_settings, (topics.INCIDENTS, topics.ALERTS_DEAD_LETTER))
    yield opened
    await opened.close()


@pytest.fixture
async def publish(kafka_settings: KafkaSettings) -> AsyncIterator[Any]:
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()

    async def send(value: bytes) -> tuple[int, int]:
        metadata = await broker.publish(value, topics.ALERTS_CAP)
        return metadata.partition, metadata.offset

    yield send
    await broker.stop()


def wind(path: Path, *, run: str) -> tuple[bytes, str]:
    """A wind fixture, as its bytes (in its own encoding) and its identifier, unique to `run`."""
    data = path.read_bytes().replace(b"KZ-DChS-", f"KZ-DChS-{run}-".encode())
    start = data.index(b"<identifier>") + len(b"<identifier>")
    return data, data[start : data.index(b"</identifier>")].decode("ascii")


def named_only(data: bytes, area_desc: str, *, sender: str | None = None) -> bytes:
    """The UTF-8 wind alert with its area given by name alone: no polygon, no geocode."""
    head, _, rest = data.partition(b"<area>")
    _, _, tail_ = rest.partition(b"</area>")
    area = f"<area><areaDesc>{area_desc}</areaDesc></area>".encode()
    moved = head + area + tail_
    if sender is not None:
        moved = moved.replace(
            b"<sender>cap@emer.gov.kz</sender>", f"<sender>{sender}</sender>".encode()
        )
    return moved


async def incident_of(engine: AsyncEngine, identifier: str) -> dict[str, Any] | None:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT i.*, ST_AsText(i.center) AS center_wkt FROM alerts a "
                    "JOIN incidents i ON i.id = a.incident_id WHERE a.identifier = :identifier"
                ),
                {"identifier": identifier},
            )
        ).first()
    return row._asdict() if row else None


async def opened(engine: AsyncEngine, identifier: str) -> dict[str, Any]:
    incident = await eventually(lambda: incident_of(engine, identifier))
    assert isinstance(incident, dict)
    return incident


async def announced(tail: Tail, incident_id: object) -> dict[str, Any]:
    def matches(record: Record) -> bool:
        return (
            record.topic == topics.INCIDENTS
            and record.key == str(incident_id).encode()
            and record.headers.get("event_type") == "IncidentOpened"
        )

    [record] = await tail.wait_for(matches)
    event: dict[str, Any] = json.loads(record.value)
    return event


@pytest.mark.parametrize("name", ["wind_kostanay_ru_windows1251.xml", "wind_kostanay_ru_koi8r.xml"])
async def test_a_legacy_encoded_alert_becomes_the_same_incident_as_its_utf8_twin(
    name: str, intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    legacy, legacy_id = wind(ENCODINGS / name, run=run)
    utf8, utf8_id = wind(ENCODINGS / "wind_kostanay_ru_utf8.xml", run=run)
    await publish(legacy)
    await publish(utf8)

    read, twin = await opened(engine, legacy_id), await opened(engine, utf8_id)

    assert read["type"] == "wind" and read["status"] == "open"
    assert read["region_codes"] == ["KZ-39"]
    assert read["texts"] == twin["texts"]  # the Cyrillic read right, letter for letter
    assert read["texts"][0]["event"] == "Сильный ветер"
    assert read["area_km2"] == pytest.approx(twin["area_km2"])
    event = await announced(tail, read["id"])
    assert event["status"] == "open"


async def test_a_latin1_alert_is_read_and_judged_on_its_sender(
    intake: IntakeService, tail: Tail, publish: Any
) -> None:
    # The USGS message is ISO-8859-1: it is decoded, parsed and schema-checked, and only then
    # refused, for its sender is not in the registry (not for its encoding).
    where = await publish((THIRD_PARTY / "usgs" / "earthquake-iso8859-1.xml").read_bytes())

    letter = await dead_letter_of(tail, topics.ALERTS_CAP, where)

    assert letter.code == "unknown_sender"
    assert "earthquake.usgs.gov" in letter.reason


async def test_undeclared_bytes_that_are_not_utf8_are_refused_with_a_clear_reason(
    intake: IntakeService, tail: Tail, publish: Any
) -> None:
    data, _ = wind(ENCODINGS / "wind_kostanay_ru_windows1251.xml", run=new_run())
    undeclared = data.replace(b' encoding="windows-1251"', b"")

    letter = await dead_letter_of(tail, topics.ALERTS_CAP, await publish(undeclared))

    assert letter.code == "bad_encoding"
    assert "not valid UTF-8" in letter.reason and "declare its encoding" in letter.reason


async def test_an_area_named_in_kazakh_is_placed_on_its_districts_and_city(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    data, identifier = wind(ENCODINGS / "wind_kostanay_kk_utf8.xml", run=run)
    await publish(
        named_only(data, "Қостанай облысы: Қостанай қ., Қостанай және Меңдіқара аудандары")
    )

    incident = await opened(engine, identifier)

    assert incident["region_codes"] == ["KZ-39"]
    assert not incident["area_to_confirm"]
    assert 3_000 < incident["area_km2"] < 40_000  # two districts and the city, not the region
    event = await announced(tail, incident["id"])
    assert event["area_to_confirm"] is False


async def test_an_ambiguous_name_is_an_incident_to_confirm_in_the_senders_region(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    data, identifier = wind(ENCODINGS / "wind_kostanay_ru_utf8.xml", run=run)
    # "Костанай": the city, the district or the region? The department alerts Kostanay only.
    await publish(named_only(data, "Костанай", sender=KOSTANAY_DEPARTMENT))

    incident = await opened(engine, identifier)

    assert incident["status"] == "open"
    assert incident["area_to_confirm"]
    assert incident["region_codes"] == ["KZ-39"]
    event = await announced(tail, incident["id"])
    assert event["area_to_confirm"] is True
    assert event["region_codes"] == ["KZ-39"]


async def test_an_unknown_place_is_never_a_silent_dead_letter(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    data, identifier = wind(ENCODINGS / "wind_kostanay_ru_utf8.xml", run=run)
    await publish(named_only(data, "урочище Сорок Ключей", sender=KOSTANAY_DEPARTMENT))

    incident = await opened(engine, identifier)

    assert incident["area_to_confirm"] and incident["region_codes"] == ["KZ-39"]
    async with engine.connect() as connection:
        descriptions = (
            await connection.scalars(
                text("SELECT description FROM incident_areas WHERE incident_id = :id"),
                {"id": incident["id"]},
            )
        ).all()
    assert descriptions == ["урочище Сорок Ключей"]  # the sender's words, for the dispatcher


async def test_an_alert_beyond_the_border_is_announced_outside_the_service_area(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    data, identifier = wind(ENCODINGS / "wind_kostanay_ru_utf8.xml", run=run)
    orenburg = data.replace(
        data[data.index(b"<polygon>") : data.index(b"</polygon>") + len(b"</polygon>")],
        b"<polygon>51.70,55.00 51.70,55.30 51.90,55.30 51.90,55.00 51.70,55.00</polygon>",
    ).replace(b"<value>KZ-39</value>", b"<value>RU-ORE</value>")
    await publish(orenburg)

    incident = await opened(engine, identifier)

    assert incident["status"] == "outside_service_area"
    assert incident["region_codes"] == []
    assert incident["priority"] == "high"  # kept as classified, for the record
    event = await announced(tail, incident["id"])
    assert event["status"] == "outside_service_area"  # the mobilizer calls no one for it


async def test_an_alert_across_the_border_is_clipped_to_kazakhstan(
    intake: IntakeService, publish: Any, engine: AsyncEngine
) -> None:
    run = new_run()
    data, identifier = wind(ENCODINGS / "wind_kostanay_ru_utf8.xml", run=run)
    troitsk = data.replace(
        data[data.index(b"<polygon>") : data.index(b"</polygon>") + len(b"</polygon>")],
        b"<polygon>54.10,61.40 54.10,62.20 53.60,62.20 53.60,61.40 54.10,61.40</polygon>",
    )
    await publish(troitsk)

    incident = await opened(engine, identifier)

    assert incident["status"] == "open" and incident["region_codes"] == ["KZ-39"]
    async with engine.connect() as connection:
        inside = await connection.scalar(
            text(
                "SELECT ST_Area(ST_Intersection(i.area, ST_GeogFromText(:troitsk))) / 1e6 "
                "FROM incidents i WHERE i.id = :id"
            ),
            {
                "id": incident["id"],
                "troitsk": "POLYGON((61.4 54.1, 62.2 54.1, 62.2 53.6, 61.4 53.6, 61.4 54.1))",
            },
        )
    whole = 55.6 * 52.4  # about 0.5° of latitude by 0.8° of longitude at 54°N, in km
    assert incident["area_km2"] < 0.95 * whole  # the Russian side is cut away
    assert inside == pytest.approx(incident["area_km2"], rel=0.01)


async def _to_confirm(publish: Any, engine: AsyncEngine) -> tuple[str, dict[str, Any]]:
    """An alert from Kostanay's department naming a place nobody can find: its identifier and the
    incident it became, standing on the region, its area to confirm."""
    data, identifier = wind(ENCODINGS / "wind_kostanay_ru_utf8.xml", run=new_run())
    await publish(named_only(data, "урочище Сорок Ключей", sender=KOSTANAY_DEPARTMENT))
    incident = await opened(engine, identifier)
    assert incident["area_to_confirm"]
    return identifier, incident


def _api(database: DatabaseSettings, kafka: KafkaSettings, redis: RedisSettings) -> FastAPI:
    """The API on the intake's clock: an Update dated now would be from the intake's future."""
    app = create_app(ApiSettings(environment="test", database=database, kafka=kafka, redis=redis))
    app.state.clock = FakeClock(NOW)
    return app


async def test_a_dispatcher_places_an_area_to_confirm_and_the_incident_takes_it(
    intake: IntakeService,
    publish: Any,
    engine: AsyncEngine,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> None:
    """An alert naming a place nobody can find stands on the sender's region, to confirm; a
    Kostanay dispatcher draws a 3 km circle on the map: a CAP Update from Jedel's dispatchers goes
    through the intake and the incident is there, confirmed. Another region's dispatcher cannot."""
    identifier, incident = await _to_confirm(publish, engine)
    app = _api(database_settings, kafka_settings, redis_settings)
    here = await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"])
    elsewhere = await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-75"])
    place = f"/api/v1/incidents/{incident['id']}/area"
    circle = {"center": [63.62, 53.21], "radius_m": 3_000}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as api,
    ):
        refused = await api.post(place, headers=elsewhere, json=circle)
        tiny = await api.post(place, headers=here, json={**circle, "radius_m": 10})
        placed = await api.post(place, headers={**here, "Accept-Language": "ru"}, json=circle)

    assert refused.status_code == 403
    assert tiny.status_code == 422
    assert placed.status_code == 202, placed.text
    assert "Область отправлена (3.0 км)" in placed.json()["detail"]

    async def confirmed() -> dict[str, Any] | None:
        now = await incident_of(engine, identifier)
        return now if now and not now["area_to_confirm"] else None

    after = await eventually(confirmed)
    assert isinstance(after, dict)
    assert after["version"] > incident["version"]
    assert after["area_km2"] == pytest.approx(3.14159 * 3**2, rel=0.05)
    assert after["center_wkt"].startswith("POINT(63.6")
    async with engine.connect() as connection:
        update = (
            await connection.execute(
                text(
                    "SELECT sender, msg_type FROM alerts WHERE incident_id = :i"
                    " AND sender = 'dispatch@jedel.kz'"
                ),
                {"i": incident["id"]},
            )
        ).one()
    assert tuple(update) == ("dispatch@jedel.kz", "Update")


async def test_a_dispatcher_places_the_area_on_the_consoles_map(
    intake: IntakeService,
    publish: Any,
    engine: AsyncEngine,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
    screenshots: Path,
) -> None:
    """In Russian: the incident is listed as an area to confirm; the dispatcher chooses to place
    it, clicks the map, sets 2 km and sends it; the intake takes the Update and the incident is
    placed."""
    identifier, incident = await _to_confirm(publish, engine)
    app = _api(database_settings, kafka_settings, redis_settings)
    username = f"kostanay-area-{new_run()}"
    await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"], username=username)
    async with served_api(app) as url, async_playwright() as playwright:
        browser = await chromium(playwright)
        try:
            page = await console_page(browser, url, "ru", username)
            item = page.locator(f'[data-incident="{incident["id"]}"]')
            await expect(item).to_contain_text("область требует подтверждения", timeout=10_000)
            await item.click()
            await page.locator("#place-start").click()
            await page.locator("#map").click(position={"x": 380, "y": 420})
            await expect(page.locator("path.placed-area")).to_have_count(1)
            await page.get_by_label("Радиус, км").fill("2")
            await page.locator("#place-send").click()
            await expect(page.locator(".place .note")).to_contain_text(
                "Область отправлена (2.0 км)", timeout=10_000
            )
            await page.screenshot(path=str(screenshots / "console-area-placed-ru.png"))
            # A live change redraws the panel meanwhile: what the send said is still shown (the
            # tool itself is gone once the console has heard that the area is placed).
            said = await page.evaluate(
                "() => { render(); const note = document.querySelector('.place .note');"
                " return note ? note.textContent : null; }"
            )
            assert said is None or "Область отправлена (2.0 км)" in said, said
        finally:
            await browser.close()

    async def confirmed() -> dict[str, Any] | None:
        now = await incident_of(engine, identifier)
        return now if now and not now["area_to_confirm"] else None

    after = await eventually(confirmed)
    assert isinstance(after, dict)
    assert after["area_km2"] == pytest.approx(3.14159 * 2**2, rel=0.05)


async def test_an_outside_producer_naming_jedels_dispatchers_as_sender_is_refused(
    intake: IntakeService, tail: Tail, publish: Any, engine: AsyncEngine
) -> None:
    """The very Update the API would send, but on the emergency services' topic: Jedel's
    dispatchers are accepted from `alerts.dispatch.v1` alone (only the API may write it), so
    whoever can write `alerts.cap.v1` cannot place or move any incident in their name."""
    identifier, incident = await _to_confirm(publish, engine)
    async with engine.connect() as connection:
        raw = await connection.scalar(
            text("SELECT raw FROM alerts WHERE identifier = :i"), {"i": identifier}
        )
    forged = confirmed_area_update(
        bytes(raw),
        identifier=f"forged-{new_run()}",
        sent=NOW.astimezone(KAZAKHSTAN_TZ),
        lon=63.62,
        lat=53.21,
        radius_m=3_000,
        description="Forged",
    )

    letter = await dead_letter_of(tail, topics.ALERTS_CAP, await publish(forged))

    assert letter.code == "sender_not_permitted"
    assert "dispatch@jedel.kz" in letter.reason
    still = await incident_of(engine, identifier)
    assert still is not None and still["area_to_confirm"]
    assert still["version"] == incident["version"]
