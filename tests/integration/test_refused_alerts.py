"""The dispatchers' queue of refused alerts, for real: a message the intake refuses on the broker
reaches the queue through the registry, a dispatcher of its region reads why and what was sent,
corrects it, and the corrected message opens the incident through the intake; one of another
region sees none of it; a message nobody can place is every dispatcher's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from playwright.async_api import async_playwright, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.auth.principals import AccountRole
from services.api.main import create_app
from services.api.settings import ApiSettings
from services.intake.main import IntakeService
from services.intake.senders import sender_key
from services.registry.main import RegistryService
from services.registry.settings import RegistryOptions, RegistrySettings
from shared.events import topics
from shared.i18n import translate
from shared.settings import DatabaseSettings, KafkaSettings, RedisSettings
from tests.accounts import headers_for
from tests.browsers import chromium, console_page
from tests.factories import cap, new_run
from tests.running import api_client, from_the_end, positioned, running_intake, served_api

pytestmark = pytest.mark.integration

STRANGER = "prank@example.com"
KOSTANAY = "dchs.kostanay@emer.gov.kz"


@pytest.fixture(scope="module")
async def intake(
    database_settings: DatabaseSettings, kafka_settings: KafkaSettings, engine: AsyncEngine
) -> AsyncIterator[IntakeService]:
    async with running_intake(
        database_settings,
        from_the_end(kafka_settings),
        engine,
        intake={"suspensions_refresh_s": 0.2},
    ) as service:
        await positioned(service.broker)
        yield service


@pytest.fixture(scope="module")
async def registry(
    database_settings: DatabaseSettings, kafka_settings: KafkaSettings, engine: AsyncEngine
) -> AsyncIterator[RegistryService]:
    """The registry on an empty queue (earlier runs' refusals would be found first)."""
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE refused_alerts"))
    service = RegistryService(
        RegistrySettings(
            database=database_settings,
            kafka=from_the_end(kafka_settings),
            registry=RegistryOptions(group_id=f"jedel-registry-{new_run()}", retry_backoff_s=0.05),
        )
    )
    await service.start()
    await positioned(service.broker)
    yield service
    await service.stop()


@pytest.fixture(scope="module")
def api_settings(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> ApiSettings:
    return ApiSettings(
        environment="test",
        database=database_settings,
        kafka=kafka_settings,
        redis=redis_settings,
    )


@pytest.fixture(scope="module")
async def api(api_settings: ApiSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(api_settings) as http:
        yield http


def _flood_from(sender: str, run: str) -> bytes:
    """The Kostanay flood alert of `run`, sent by `sender`."""
    return cap("flood_kostanay_12.xml", run=run).replace(
        b"<sender>cap@emer.gov.kz</sender>", f"<sender>{sender}</sender>".encode()
    )


async def _staff(engine: AsyncEngine, role: AccountRole, *regions: str) -> dict[str, str]:
    return {**await headers_for(engine, role, regions=regions), "Accept-Language": "ru"}


async def _queued(
    api: httpx.AsyncClient, headers: dict[str, str], *, sender: str | None = None, code: str
) -> dict[str, Any]:
    """The open refusal with this code (and sender), once the registry has queued it."""
    deadline = time.monotonic() + 30
    while True:
        answer = await api.get("/api/v1/refused-alerts", headers=headers)
        assert answer.status_code == 200, answer.text
        for item in answer.json()["items"]:
            if item["code"] == code and (sender is None or item["sender"] == sender):
                return dict(item)
        assert time.monotonic() < deadline, f"no open {code} refusal in the queue after 30 s"
        await asyncio.sleep(0.2)


async def _opened(engine: AsyncEngine, identifier: str) -> None:
    """Until the intake has taken the alert (the corrected one: the refused never was)."""
    deadline = time.monotonic() + 30
    while True:
        async with engine.connect() as connection:
            found = await connection.scalar(
                text("SELECT count(*) FROM alerts WHERE identifier = :i"), {"i": identifier}
            )
        if found:
            return
        assert time.monotonic() < deadline, "the corrected alert never reached the intake"
        await asyncio.sleep(0.2)


async def test_a_dispatcher_corrects_a_refused_alert_and_it_opens_the_incident(
    intake: IntakeService,
    registry: RegistryService,
    api: httpx.AsyncClient,
    publish_bytes: Any,
    engine: AsyncEngine,
) -> None:
    run = new_run()
    flood = cap("flood_kostanay_12.xml", run=run)
    identifier = f"KZ-TZhM-{run}-KST-2026-0402-001"
    sent = _flood_from(STRANGER, run)
    assert sent != flood
    await publish_bytes(topics.ALERTS_CAP, sent)
    here = await _staff(engine, AccountRole.DISPATCHER, "KZ-39")
    elsewhere = await _staff(engine, AccountRole.DISPATCHER, "KZ-75")

    queued = await _queued(api, here, sender=STRANGER, code="unknown_sender")
    assert queued["title"] == translate("rejection.unknown_sender", "ru")  # said in Russian
    assert queued["region_codes"] == ["KZ-39"], "the flood is in Kostanay region"
    assert queued["source"] == "cap"
    assert STRANGER in queued["reason"]

    # Another region's dispatcher: not in their list, and refused when asked for it by id.
    theirs = (await api.get("/api/v1/refused-alerts", headers=elsewhere)).json()
    assert queued["id"] not in {item["id"] for item in theirs["items"]}
    refused = await api.get(f"/api/v1/refused-alerts/{queued['id']}", headers=elsewhere)
    assert refused.status_code == 403
    assert STRANGER not in refused.text
    no_entry = await api.post(
        f"/api/v1/refused-alerts/{queued['id']}/resubmit",
        headers=elsewhere,
        json={"message": flood.decode()},
    )
    assert no_entry.status_code == 403

    # A correction may not carry the alert out of the dispatcher's regions (Akmola's blizzard).
    moved = await api.post(
        f"/api/v1/refused-alerts/{queued['id']}/resubmit",
        headers=here,
        json={"message": cap("blizzard_geocode_12.xml", run=run).decode()},
    )
    assert moved.status_code == 403 and "вне ваших" in moved.json()["detail"], moved.text

    shown = (await api.get(f"/api/v1/refused-alerts/{queued['id']}", headers=here)).json()
    assert shown["message"] == sent.decode(), "the message exactly as it was sent"
    assert shown["correction"] is None

    corrected = shown["message"].replace(STRANGER, KOSTANAY)
    answer = await api.post(
        f"/api/v1/refused-alerts/{queued['id']}/resubmit", headers=here, json={"message": corrected}
    )
    assert answer.status_code == 202, answer.text
    assert "заново" in answer.json()["detail"]

    await _opened(engine, identifier)

    again = await api.post(
        f"/api/v1/refused-alerts/{queued['id']}/resubmit", headers=here, json={"message": corrected}
    )
    assert again.status_code == 409
    assert "другой диспетчер" in again.json()["detail"]
    still_open = (await api.get("/api/v1/refused-alerts", headers=here)).json()["items"]
    assert queued["id"] not in {item["id"] for item in still_open}
    handled = (await api.get("/api/v1/refused-alerts?status=resubmitted", headers=here)).json()[
        "items"
    ]
    [mine] = [item for item in handled if item["id"] == queued["id"]]
    assert mine["handled_at"] is not None
    kept = (await api.get(f"/api/v1/refused-alerts/{queued['id']}", headers=here)).json()
    assert kept["correction"] == corrected, "what was sent in its place stays on record"


async def test_a_message_nobody_can_place_is_every_dispatchers_and_can_be_dismissed(
    intake: IntakeService,
    registry: RegistryService,
    api: httpx.AsyncClient,
    publish_bytes: Any,
    engine: AsyncEngine,
) -> None:
    marker = new_run()
    await publish_bytes(topics.ALERTS_CAP, f"<alert><identifier>{marker}</identifier".encode())
    here = await _staff(engine, AccountRole.DISPATCHER, "KZ-39")
    elsewhere = await _staff(engine, AccountRole.DISPATCHER, "KZ-75")
    coordinator = await _staff(engine, AccountRole.COORDINATOR, "KZ-75")

    queued = await _queued(api, elsewhere, code="malformed_xml")
    shown = (await api.get(f"/api/v1/refused-alerts/{queued['id']}", headers=here)).json()
    if marker not in shown["message"]:  # another test's broken message: find ours
        items = (await api.get("/api/v1/refused-alerts?limit=200", headers=here)).json()["items"]
        ids = [item["id"] for item in items if item["code"] == "malformed_xml"]
        bodies = [(await api.get(f"/api/v1/refused-alerts/{i}", headers=here)).json() for i in ids]
        [shown] = [body for body in bodies if marker in body["message"]]
    assert shown["region_codes"] == [] and shown["sender"] is None

    # Coordinators run searches, not the intake: the queue is not theirs.
    assert (await api.get("/api/v1/refused-alerts", headers=coordinator)).status_code == 403

    dismissed = await api.post(f"/api/v1/refused-alerts/{shown['id']}/dismiss", headers=elsewhere)
    assert dismissed.status_code == 200, dismissed.text
    open_ids = {
        item["id"]
        for item in (await api.get("/api/v1/refused-alerts?limit=200", headers=here)).json()[
            "items"
        ]
    }
    assert shown["id"] not in open_ids
    late = await api.post(
        f"/api/v1/refused-alerts/{shown['id']}/resubmit", headers=here, json={"message": "<x/>"}
    )
    assert late.status_code == 409


async def test_a_dispatcher_corrects_a_refused_alert_in_the_console_in_kazakh(
    intake: IntakeService,
    registry: RegistryService,
    api: httpx.AsyncClient,
    api_settings: ApiSettings,
    publish_bytes: Any,
    engine: AsyncEngine,
    screenshots: Path,
) -> None:
    """The bar counts the open refusals; the dispatcher opens the one about Kostanay, reads why
    (in Kazakh) and the message, corrects the sender in place and resubmits: the incident opens."""
    run = new_run()
    identifier = f"KZ-TZhM-{run}-KST-2026-0402-001"
    sent = _flood_from(STRANGER, run)
    await publish_bytes(topics.ALERTS_CAP, sent)
    username = f"kostanay-{run}"
    here = await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"], username=username)
    queued = await _queued(api, here, sender=STRANGER, code="unknown_sender")
    async with served_api(create_app(api_settings)) as url, async_playwright() as playwright:
        browser = await chromium(playwright)
        try:
            page = await console_page(browser, url, "kk", username)
            button = page.locator("#refused")
            await expect(button).to_contain_text("Қабылданбаған хабарламалар", timeout=10_000)
            await expect(button).to_have_class("alarm")
            await button.click()
            await page.locator(f'[data-refusal="{queued["id"]}"]').click()
            await expect(page.locator("#panel h2")).to_have_text(
                translate("rejection.unknown_sender", "kk"), timeout=15_000
            )
            await expect(page.locator("#panel .reason")).to_contain_text(STRANGER)
            text_box = page.get_by_label("Жіберілген хабарлама — осында түзетіңіз")
            shown = await text_box.input_value()
            assert STRANGER in shown
            await text_box.fill(shown.replace(STRANGER, KOSTANAY))
            await page.screenshot(path=str(screenshots / "console-refused-kk.png"))
            await page.locator("#resubmit").click()
            await expect(page.locator("#panel .note")).to_contain_text(
                "қайта жіберілді", timeout=10_000
            )
            await expect(page.locator(f'[data-refusal="{queued["id"]}"]')).to_have_count(0)
        finally:
            await browser.close()
    await _opened(engine, identifier)


async def test_an_unknown_refusal_is_404_in_the_callers_language(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    here = await _staff(engine, AccountRole.DISPATCHER, "KZ-39")
    answer = await api.get(f"/api/v1/refused-alerts/{UUID(int=7)}", headers=here)
    assert answer.status_code == 404
    assert answer.json()["detail"] == "Такого отклонённого сообщения нет"


async def test_an_admin_suspends_a_sender_and_its_alerts_are_refused_until_resumed(
    intake: IntakeService,
    registry: RegistryService,
    api: httpx.AsyncClient,
    publish_bytes: Any,
    engine: AsyncEngine,
) -> None:
    """Kostanay's department is suspended (its key leaked, say): its next flood alert is refused
    and waits in the Kostanay dispatchers' queue saying so; resumed, the same alert (a new copy)
    opens the incident. Only admins may do either."""
    admin = {**await headers_for(engine, AccountRole.ADMIN), "Accept-Language": "en"}
    dispatcher = await _staff(engine, AccountRole.DISPATCHER, "KZ-39")
    listed = (await api.get("/api/v1/senders", headers=admin)).json()
    assert {s["id"]: s["suspended"] for s in listed}[KOSTANAY] is None
    assert (await api.get("/api/v1/senders", headers=dispatcher)).status_code == 403
    refused_to_dispatcher = await api.post(
        "/api/v1/senders/suspend",
        headers=dispatcher,
        json={"sender_id": KOSTANAY, "reason": "not theirs to do"},
    )
    assert refused_to_dispatcher.status_code == 403

    suspended = await api.post(
        "/api/v1/senders/suspend",
        headers=admin,
        json={"sender_id": KOSTANAY.upper(), "reason": "signing key leaked"},
    )
    assert suspended.status_code == 200, suspended.text
    assert "is suspended" in suspended.json()["detail"]
    await _until(intake, suspended=True)
    run = new_run()
    flood = _flood_from(KOSTANAY, run)
    await publish_bytes(topics.ALERTS_CAP, flood)
    queued = await _queued(api, dispatcher, sender=KOSTANAY, code="sender_suspended")
    assert queued["region_codes"] == ["KZ-39"]
    now_listed = {s["id"]: s for s in (await api.get("/api/v1/senders", headers=admin)).json()}
    assert now_listed[KOSTANAY]["suspended"]["reason"] == "signing key leaked"
    assert now_listed["cap@emer.gov.kz"]["suspended"] is None

    resumed = await api.post("/api/v1/senders/resume", headers=admin, json={"sender_id": KOSTANAY})
    assert resumed.status_code == 200, resumed.text
    again = await api.post("/api/v1/senders/resume", headers=admin, json={"sender_id": KOSTANAY})
    assert again.status_code == 404, "not suspended any more"
    await _until(intake, suspended=False)
    await publish_bytes(topics.ALERTS_CAP, flood.replace(b"-001<", b"-002<"))
    await _opened(engine, f"KZ-TZhM-{run}-KST-2026-0402-002")


async def _until(intake: IntakeService, *, suspended: bool) -> None:
    """Until the intake has read the suspension (or its end)."""
    deadline = time.monotonic() + 10
    while (sender_key(KOSTANAY) in intake.context.suspended.keys) is not suspended:
        assert time.monotonic() < deadline, "the intake did not read the suspensions in 10 s"
        await asyncio.sleep(0.05)


async def test_an_admin_suspends_and_resumes_a_sender_from_the_console(
    api_settings: ApiSettings, engine: AsyncEngine, screenshots: Path
) -> None:
    """In English: the registry lists every sender with its regions; Kazhydromet is suspended
    (the reason asked first) and shown so, then resumed."""
    username = f"admin-{new_run()}"
    await headers_for(engine, AccountRole.ADMIN, regions=["KZ-39"], username=username)
    hydromet = "kazhydromet@meteo.kz"
    asked: list[str] = []

    async def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.accept("flood of test alerts")

    try:
        async with served_api(create_app(api_settings)) as url, async_playwright() as playwright:
            browser = await chromium(playwright)
            try:
                page = await console_page(browser, url, "en", username)
                page.on("dialog", answer)
                await page.locator("#senders").click()
                line = page.locator(f'.senders li[data-sender="{hydromet}"]')
                await expect(line).to_contain_text("every region", timeout=10_000)
                await line.get_by_role("button", name="Suspend").click()
                await expect(line).to_contain_text("Suspended: flood of test alerts")
                await expect(page.locator("#panel .note")).to_contain_text("is suspended")
                await page.screenshot(path=str(screenshots / "console-sender-suspended-en.png"))
                await line.get_by_role("button", name="Resume").click()
                await expect(line).not_to_contain_text("Suspended")
            finally:
                await browser.close()
    finally:
        async with engine.begin() as connection:  # whatever happened, other tests' intakes
            await connection.execute(
                text("DELETE FROM sender_suspensions WHERE sender_key = :k"),
                {"k": sender_key(hydromet)},
            )
    assert asked == ["Why suspend Kazhydromet, the national hydrometeorological service?"]
