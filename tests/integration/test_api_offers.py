"""Answers through the API, decided by a real mobilizer; the group and the explanations read back.

The mobilizer runs in process against the real broker and database with a small hand-made
population; the API runs with its lifespan (database pool and Kafka producer). Each test mobilises
an incident of its own and cancels it afterwards, so everyone is free again for the next.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import async_playwright, expect
from pydantic import SecretStr
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.auth.principals import AccountRole
from services.api.main import create_app
from services.api.settings import ApiOptions, ApiSettings, AuthOptions
from services.cli.explain import explain
from services.mobilizer.dispatch import Matching
from services.mobilizer.main import MobilizerService, build_matching
from services.mobilizer.settings import MobilizerOptions, MobilizerSettings
from shared import answer_links
from shared.broker_access import ADMIN
from shared.events import topics
from shared.events.incidents import IncidentCancelled, IncidentStatus, LocalizedText
from shared.events.locations import VolunteerLocated
from shared.kafka import build_broker
from shared.settings import (
    DEVELOPMENT_SECRET,
    DatabaseSettings,
    KafkaSettings,
    RedisSettings,
    Settings,
)
from tests.accounts import as_volunteer, headers_for
from tests.browsers import chromium, console_page
from tests.factories import FLOOD_DAY, FakeClock, list_incident, new_run
from tests.integration.test_mobilizer import (
    KOSTANAY,
    PEOPLE,
    flood,
    place_population,
    small_flood_playbooks,
)
from tests.kafka_tail import eventually
from tests.running import from_the_end, positioned, running_tracker, served_api

pytestmark = pytest.mark.integration

OFFERS = "/api/v1/offers"
INCIDENTS = "/api/v1/incidents"
MOBILIZER_TABLES = "commitments, offers, mobilizations, mobilizer_outbox, mobilizer_inbox"
# The same people as the mobilizer's own tests, under ids of this module's own.
PEOPLE_HERE = [dataclasses.replace(person, id=uuid.uuid4()) for person in PEOPLE]

Publish = Callable[[str, uuid.UUID, Any], Awaitable[None]]


@pytest.fixture(scope="module")
async def population(engine: AsyncEngine) -> dict[str, uuid.UUID]:
    return await place_population(engine, PEOPLE_HERE, phone_prefix="+7702")


@pytest.fixture(scope="module")
async def clock() -> FakeClock:
    return FakeClock(FLOOD_DAY)


@pytest.fixture(scope="module")
async def mobilizer(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    population: dict[str, uuid.UUID],
    clock: FakeClock,
) -> AsyncIterator[MobilizerService]:
    # From the end of its topics: the session's broker holds earlier modules' incidents (the
    # end-to-end flood), which this module's people would otherwise be called out for too.
    settings = MobilizerSettings(
        database=database_settings,
        kafka=from_the_end(kafka_settings),
        mobilizer=MobilizerOptions(
            group_id=f"jedel-mobilizer-api-{new_run()}",
            sweep_interval_s=3600,
            # Every test calls the same people out again on the same (fake) day.
            max_callouts_per_day=1000,
            max_callouts_per_week=1000,
            max_offers_per_day=1000,
            max_offers_per_week=1000,
        ),
    )
    base = build_matching(settings)
    matching = Matching(
        playbooks=small_flood_playbooks(), router=base.router, model=base.model, rules=base.rules
    )
    service = MobilizerService(settings, clock=clock, matching=matching)
    await service.start()
    await positioned(service.broker)
    yield service
    await service.stop()


async def _client(
    settings: ApiSettings, clock: FakeClock | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    if clock is not None:
        app.state.clock = clock  # the offers' time, so their answer links have not expired
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=60
        ) as http,
    ):
        yield http


GATEWAY_TOKEN = "test-gateway-token-of-some-length"


def _api_settings(
    database_settings: DatabaseSettings, kafka_settings: KafkaSettings, *, wait_s: float
) -> ApiSettings:
    return ApiSettings(
        environment="test",
        database=database_settings,
        kafka=kafka_settings,
        api=ApiOptions(
            answer_wait_s=wait_s,
            answer_poll_interval_s=0.05,
            sms_inbound_token=SecretStr(GATEWAY_TOKEN),
        ),
    )


@pytest.fixture(scope="module")
async def client(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    mobilizer: MobilizerService,
    clock: FakeClock,
) -> AsyncIterator[httpx.AsyncClient]:
    # Generous: a slow machine must not turn a decision into a 202 here (202 has its own test).
    settings = _api_settings(database_settings, kafka_settings, wait_s=20)
    async for http in _client(settings, clock):
        yield http


@pytest.fixture(scope="module")
async def publish(kafka_settings: KafkaSettings) -> AsyncIterator[Publish]:
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()

    async def send(topic: str, key: uuid.UUID, event: Any) -> None:
        await broker.publish(
            event.model_dump_json().encode(),
            topic,
            key=str(key).encode(),
            headers={"event_type": type(event).__name__},
        )

    yield send
    await broker.stop()


async def _eventually(check: Callable[[], Awaitable[Any]], *, timeout_s: float = 30.0) -> Any:
    return await eventually(check, timeout_s=timeout_s)


async def _offers(engine: AsyncEngine, incident_id: uuid.UUID) -> list[Any]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT id, volunteer_id, role, wave, status, closed_reason, eta_s FROM offers "
                "WHERE incident_id = :i ORDER BY wave, eta_s"
            ),
            {"i": incident_id},
        )
        return list(rows)


async def _answer(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    offer: Any,
    verb: str,
    *,
    language: str | None = None,
    json: dict[str, Any] | None = None,
) -> httpx.Response:
    """The offer's own volunteer, signed in, answers it."""
    headers = await as_volunteer(engine, offer.volunteer_id)
    if language:
        headers["Accept-Language"] = language
    return await client.post(f"{OFFERS}/{offer.id}/{verb}", headers=headers, json=json)


async def _link(engine: AsyncEngine, offer: Any) -> str:
    """The answer link's token the notifier puts in the offer's SMS."""
    async with engine.connect() as connection:
        expires_at = await connection.scalar(
            text("SELECT expires_at FROM offers WHERE id = :o"), {"o": offer.id}
        )
    return answer_links.sign(
        DEVELOPMENT_SECRET,
        offer_id=offer.id,
        volunteer_id=offer.volunteer_id,
        offer_expires_at=expires_at,
    )


@pytest.fixture(scope="module")
async def dispatcher(engine: AsyncEngine) -> dict[str, str]:
    """A dispatcher of Kostanay region, where the test floods are."""
    return await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"])


async def _meeting_point(engine: AsyncEngine, incident_id: uuid.UUID) -> tuple[float, float]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT ST_X(center::geometry) AS lon, ST_Y(center::geometry) AS lat"
                    " FROM mobilizations WHERE incident_id = :i"
                ),
                {"i": incident_id},
            )
        ).one()
    return float(row.lon), float(row.lat)


async def _count(engine: AsyncEngine, sql: str, **values: Any) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text(sql), values) or 0)


@pytest.fixture
async def incident(
    mobilizer: MobilizerService, publish: Publish, clock: FakeClock, engine: AsyncEngine
) -> AsyncIterator[uuid.UUID]:
    """A flood mobilised with its first wave out and explained (the explanations follow the
    offers); cancelled afterwards, freeing everyone."""
    opened = flood(clock())
    await publish(topics.INCIDENTS, opened.incident_id, opened)

    async def first_wave() -> bool:
        explained = await _count(
            engine, "SELECT count(*) FROM explanations WHERE incident_id = :i", i=opened.incident_id
        )
        return bool(await _offers(engine, opened.incident_id)) and explained > 0

    await _eventually(first_wave)
    yield opened.incident_id
    facts = opened.model_dump(exclude={"event_id", "occurred_at", "kind", "status"})
    await publish(
        topics.INCIDENTS,
        opened.incident_id,
        IncidentCancelled(**facts, status=IncidentStatus.CANCELLED),
    )

    async def released() -> bool:
        still = await _count(
            engine,
            "SELECT count(*) FROM commitments WHERE incident_id = :i AND released_at IS NULL",
            i=opened.incident_id,
        )
        closed = await _count(
            engine,
            "SELECT count(*) FROM mobilizations WHERE incident_id = :i AND status = 'closed'",
            i=opened.incident_id,
        )
        return still == 0 and closed == 1

    await _eventually(released)


def _pending(offers: list[Any], role: str) -> list[Any]:
    return [offer for offer in offers if offer.role == role and offer.status == "pending"]


async def test_an_accept_takes_the_place_and_the_same_accept_again_changes_nothing(
    client: httpx.AsyncClient, incident: uuid.UUID, engine: AsyncEngine
) -> None:
    [leader, *_] = _pending(await _offers(engine, incident), "leader")

    first = await _answer(client, engine, leader, "accept")
    again = await _answer(client, engine, leader, "accept")

    assert first.status_code == 200, first.text
    body = first.json()
    assert body["status"] == "accepted"
    assert body["role"] == "leader"
    assert body["eta_s"] == leader.eta_s
    assert body["incident_id"] == str(incident)
    assert body["message"] == "Сіз топқа қосылдыңыз. Рахмет!"
    assert first.headers["content-language"] == "kk"
    assert again.status_code == 200
    assert again.json()["status"] == "accepted"
    commitments = await _count(
        engine,
        "SELECT count(*) FROM commitments WHERE offer_id = :o AND released_at IS NULL",
        o=leader.id,
    )
    assert commitments == 1
    # Changing one's mind after a "yes" goes through the coordinator, not a decline.
    change = await _answer(client, engine, leader, "decline", language="en")
    assert change.status_code == 409
    assert change.json()["reason"] == "already_accepted"
    assert "contact the coordinator" in change.json()["detail"]


async def test_a_decline_is_recorded_and_someone_else_is_asked_in_their_place(
    client: httpx.AsyncClient, incident: uuid.UUID, engine: AsyncEngine
) -> None:
    first_wave = await _offers(engine, incident)
    medic = _pending(first_wave, "medic")[0]

    declined = await _answer(
        client,
        engine,
        medic,
        "decline",
        json={"reason": "at work until 18:00"},
        language="ru-RU,ru;q=0.9,en;q=0.5",
    )

    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    assert declined.json()["eta_s"] is None
    assert declined.json()["message"] == "Ответ принят: вы отказались"

    async def replacement() -> list[Any]:
        offers = await _offers(engine, incident)
        return [o for o in offers if o.role == "medic" and o.wave > 1]

    [new, *_] = await _eventually(replacement)
    assert new.volunteer_id not in {offer.volunteer_id for offer in first_wave}
    # The same "no" again is answered as the first; a "yes" after it is too late.
    again = await _answer(client, engine, medic, "decline")
    assert again.status_code == 200
    assert again.json()["status"] == "declined"
    late = await _answer(client, engine, medic, "accept", language="en")
    assert late.status_code == 409
    assert late.json() == {
        "detail": "This call-out is closed: you declined it",
        "reason": "offer_closed",
        "offer_status": "declined",
        "closed_reason": None,
    }


async def test_an_accept_of_a_stood_down_offer_is_refused_with_the_reason(
    client: httpx.AsyncClient, incident: uuid.UUID, engine: AsyncEngine
) -> None:
    offers = await _offers(engine, incident)
    leader = _pending(offers, "leader")[0]
    medics = _pending(offers, "medic")
    assert len(medics) >= 3, "low acceptance estimates ask more people than places"
    for offer in (leader, medics[0], medics[1]):
        answered = await _answer(client, engine, offer, "accept")
        assert answered.json()["status"] == "accepted", answered.text

    spare = medics[2]
    kk = await _answer(client, engine, spare, "accept")
    ru = await _answer(client, engine, spare, "accept", language="ru")
    en = await _answer(client, engine, spare, "accept", language="en-GB")

    assert kk.status_code == ru.status_code == en.status_code == 409
    assert kk.json()["reason"] == "offer_closed"
    assert kk.json()["offer_status"] == "stood_down"
    assert kk.json()["closed_reason"] == "group_complete"
    assert kk.json()["detail"] == "Бұл шақыру жабық: топ толық жиналды"
    assert ru.json()["detail"] == "Этот вызов закрыт: группа уже собрана"
    assert en.json()["detail"] == "This call-out is closed: the group is complete"
    assert en.headers["content-language"] == "en"
    places = await _count(
        engine,
        "SELECT count(*) FROM commitments WHERE incident_id = :i AND released_at IS NULL",
        i=incident,
    )
    assert places == 3, "the refused accept took no place"


async def test_unknown_offers_and_other_peoples_offers_are_refused(
    client: httpx.AsyncClient,
    incident: uuid.UUID,
    engine: AsyncEngine,
    population: dict[str, uuid.UUID],
) -> None:
    medic = _pending(await _offers(engine, incident), "medic")[0]

    someone = await as_volunteer(engine, population["dog-handler"])
    unknown = await client.post(f"{OFFERS}/{uuid.uuid4()}/accept", headers=someone)
    unknown_en = await client.post(
        f"{OFFERS}/{uuid.uuid4()}/decline", headers={**someone, "Accept-Language": "en"}
    )
    foreign = await client.post(
        f"{OFFERS}/{medic.id}/accept", headers={**someone, "Accept-Language": "en"}
    )
    anonymous = await client.post(f"{OFFERS}/{medic.id}/accept", headers={"Accept-Language": "en"})
    staff = await client.post(
        f"{OFFERS}/{medic.id}/accept",
        headers={**await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"])},
    )
    malformed = await client.post(f"{OFFERS}/not-an-id/accept", headers=someone)

    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Мұндай шақыру жоқ"}
    assert unknown_en.json() == {"detail": "No such call-out"}
    assert foreign.status_code == 403
    assert foreign.json() == {"detail": "This call-out was sent to another volunteer"}
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": "Sign-in required"}
    assert staff.status_code == 403, "a dispatcher cannot answer for a volunteer"
    assert malformed.status_code == 422
    [still] = [o for o in await _offers(engine, incident) if o.id == medic.id]
    assert still.status == "pending", "a refused answer changes nothing"


async def test_concurrent_accepts_for_the_last_place_fill_it_once(
    client: httpx.AsyncClient, incident: uuid.UUID, engine: AsyncEngine
) -> None:
    medics = _pending(await _offers(engine, incident), "medic")
    assert len(medics) >= 3
    first = await _answer(client, engine, medics[0], "accept")
    assert first.json()["status"] == "accepted", first.text

    rivals = await asyncio.gather(
        *(_answer(client, engine, offer, "accept") for offer in medics[1:])
    )

    codes = sorted(response.status_code for response in rivals)
    assert codes == [200] + [409] * (len(medics) - 2), [r.text for r in rivals]
    refused = [response.json() for response in rivals if response.status_code == 409]
    assert {body["reason"] for body in refused} == {"role_filled"}
    assert all(
        body["detail"] == "Бұл шақыру жабық: бұл орынды басқа ерікті алды" for body in refused
    )
    places = await _count(
        engine,
        "SELECT count(*) FROM commitments WHERE incident_id = :i AND role = 'medic'",
        i=incident,
    )
    assert places == 2


async def test_an_answer_not_decided_in_time_is_queued_and_decided_all_the_same(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    incident: uuid.UUID,
    engine: AsyncEngine,
) -> None:
    medic = _pending(await _offers(engine, incident), "medic")[0]
    impatient = _api_settings(database_settings, kafka_settings, wait_s=0)
    async for http in _client(impatient):
        queued = await _answer(http, engine, medic, "decline", language="en")

    assert queued.status_code == 202
    assert queued.json()["status"] == "pending"
    assert queued.json()["message"] == "Your answer is queued and will be decided shortly"

    async def decided() -> bool:
        [offer] = [o for o in await _offers(engine, incident) if o.id == medic.id]
        return bool(offer.status == "declined")

    await _eventually(decided)


async def test_without_a_broker_reads_work_and_answers_are_refused_to_be_sent_again(
    database_settings: DatabaseSettings,
    incident: uuid.UUID,
    engine: AsyncEngine,
    dispatcher: dict[str, str],
) -> None:
    medic = _pending(await _offers(engine, incident), "medic")[0]
    nowhere = _api_settings(
        database_settings, KafkaSettings(bootstrap_servers="127.0.0.1:1"), wait_s=1
    )
    async for http in _client(nowhere):
        state = await http.get(f"{INCIDENTS}/{incident}/mobilization", headers=dispatcher)
        answer = await _answer(http, engine, medic, "accept", language="en")

    assert state.status_code == 200
    assert answer.status_code == 503
    assert answer.json() == {"detail": "Your answer cannot be taken right now; please try again"}
    [still] = [o for o in await _offers(engine, incident) if o.id == medic.id]
    assert still.status == "pending"


async def test_the_mobilization_shows_places_offers_and_members_per_role(
    client: httpx.AsyncClient,
    incident: uuid.UUID,
    engine: AsyncEngine,
    dispatcher: dict[str, str],
) -> None:
    offers = await _offers(engine, incident)
    leader = _pending(offers, "leader")[0]
    assert (await _answer(client, engine, leader, "accept")).json()["status"] == "accepted"

    response = await client.get(f"{INCIDENTS}/{incident}/mobilization", headers=dispatcher)
    missing = await client.get(
        f"{INCIDENTS}/{uuid.uuid4()}/mobilization", headers={**dispatcher, "Accept-Language": "en"}
    )
    elsewhere = await client.get(
        f"{INCIDENTS}/{incident}/mobilization",
        headers={
            **await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-75"]),
            "Accept-Language": "en",
        },
    )
    anonymous = await client.get(f"{INCIDENTS}/{incident}/mobilization")
    volunteer = await client.get(
        f"{INCIDENTS}/{incident}/mobilization",
        headers=await as_volunteer(engine, leader.volunteer_id),
    )

    assert response.status_code == 200, response.text
    state = response.json()
    assert state["status"] == "active"
    assert state["wave"] >= 1
    assert state["radius_m"] >= 5_000
    assert state["deadline_at"]
    roles = {role["role"]: role for role in state["roles"]}
    assert [role["role"] for role in state["roles"]] == ["leader", "medic"]
    assert roles["leader"]["needed"] == 1
    assert roles["leader"]["accepted"] == 1
    assert roles["leader"]["open_places"] == 0
    assert roles["leader"]["asked"] == sum(1 for o in offers if o.role == "leader")
    assert roles["leader"]["pending"] == 0, "the spare leaders are stood down"
    assert roles["medic"]["needed"] == 2
    assert roles["medic"]["pending"] == sum(1 for o in offers if o.role == "medic")
    assert roles["medic"]["open_places"] == 2
    # The dispatcher sees the offer budget and how much of it is spent, and when to expect the
    # group complete at this pace.
    asked = sum(role["asked"] for role in state["roles"])
    assert state["offers"]["sent"] == asked == len(offers)
    assert state["offers"]["budget"] >= asked
    assert state["offers"]["left"] == state["offers"]["budget"] - asked
    assert state["expected_complete_at"] is not None
    [member] = state["members"]
    assert member["volunteer_id"] == str(leader.volunteer_id)
    assert member["role"] == "leader"
    assert member["eta_s"] == leader.eta_s
    assert member["name"] == "leader-near"
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No volunteers were called out for this incident"}
    assert elsewhere.status_code == 403, "another region's dispatcher sees nothing"
    assert elsewhere.json() == {"detail": "This incident is not in your region"}
    assert "leader-near" not in elsewhere.text
    assert anonymous.status_code == 401 and volunteer.status_code == 403
    # Who saw the members' names is on record, by id.
    viewed = await _count(
        engine,
        "SELECT count(*) FROM personal_data_views WHERE incident_id = :i AND route = "
        "'mobilization' AND :v = ANY(volunteer_ids)",
        i=incident,
        v=leader.volunteer_id,
    )
    assert viewed >= 1


async def test_explanations_say_why_each_volunteer_was_or_was_not_asked(
    client: httpx.AsyncClient,
    incident: uuid.UUID,
    engine: AsyncEngine,
    population: dict[str, uuid.UUID],
    database_settings: DatabaseSettings,
    dispatcher: dict[str, str],
) -> None:
    minor = population["medic-minor"]
    every = await client.get(f"{INCIDENTS}/{incident}/explanations", headers=dispatcher)
    lines = {}
    for language in ("kk", "ru", "en"):
        response = await client.get(
            f"{INCIDENTS}/{incident}/explanations",
            params={"lang": language, "volunteer_id": str(minor)},
            headers=dispatcher,
        )
        assert response.status_code == 200, response.text
        [entry] = response.json()["explanations"]
        lines[language] = entry["lines"]
    asked = await client.get(
        f"{INCIDENTS}/{incident}/explanations", params={"outcome": "asked"}, headers=dispatcher
    )
    never = await client.get(f"{INCIDENTS}/{uuid.uuid4()}/explanations", headers=dispatcher)
    elsewhere = await client.get(
        f"{INCIDENTS}/{incident}/explanations",
        headers=await headers_for(engine, AccountRole.COORDINATOR, regions=["KZ-75"]),
    )
    analyst = await client.get(
        f"{INCIDENTS}/{incident}/explanations",
        headers=await headers_for(engine, AccountRole.ANALYST),
    )
    assert elsewhere.status_code == 403 and analyst.status_code == 403
    assert "medic-minor" not in elsewhere.text + analyst.text

    entries = every.json()["explanations"]
    outcomes = [entry["outcome"] for entry in entries]
    assert outcomes[0] == "asked"
    assert outcomes == sorted(outcomes, key=lambda outcome: outcome != "asked"), "asked first"
    rest = [entry["distance_m"] for entry in entries if entry["outcome"] != "asked"]
    assert rest == sorted(rest), "then nearest first"
    by_id = {entry["volunteer_id"]: entry for entry in entries}
    assert by_id[str(minor)]["outcome"] == "not_eligible"
    assert "minor" in by_id[str(minor)]["reasons"]
    assert by_id[str(minor)]["name"] == "medic-minor"
    assert by_id[str(minor)]["distance_m"] == pytest.approx(300, abs=30)
    assert "certificate_expired" in by_id[str(population["medic-expired"])]["reasons"]
    nearest_medic = by_id[str(population["medic-1"])]
    assert nearest_medic["outcome"] == "asked"
    assert nearest_medic["role"] == "medic"
    assert nearest_medic["offer_status"] == "pending"
    assert 0 < nearest_medic["p_accept"] < 1
    assert all(lines.values())
    assert len({tuple(text) for text in lines.values()}) == 3, "one text per language"
    assert any("Under 18" in line for line in lines["en"])
    assert not any(char.isdigit() for char in lines["en"][-1].replace("18", "")), "no age"
    assert {entry["outcome"] for entry in asked.json()["explanations"]} == {"asked"}
    # Someone no wave looked at is told as such, not as an empty list; a stranger is a 404.
    handler = await client.get(
        f"{INCIDENTS}/{incident}/explanations",
        params={"lang": "en", "volunteer_id": str(population["dog-handler"])},
        headers=dispatcher,
    )
    [unseen] = handler.json()["explanations"]
    assert (unseen["outcome"], unseen["name"]) == ("not_considered", "dog-handler")
    assert unseen["distance_m"] == pytest.approx(400, abs=30)
    assert unseen["lines"][0].startswith("Not considered")
    stranger = await client.get(
        f"{INCIDENTS}/{incident}/explanations",
        params={"volunteer_id": str(uuid.uuid4())},
        headers={**dispatcher, "Accept-Language": "ru"},
    )
    assert (stranger.status_code, stranger.json()["detail"]) == (404, "Такого волонтёра нет")
    assert never.status_code == 404

    console = Console(record=True, width=200)
    settings = Settings(database=database_settings)
    assert await explain(incident, settings=settings, console=console, language="en")
    printed = console.export_text()
    assert "medic-minor" in printed
    assert "Under 18" in printed
    assert "not_eligible" in printed
    quiet = Console(record=True, width=200)
    assert not await explain(uuid.uuid4(), settings=settings, console=quiet, language="en")
    assert "never mobilised" in quiet.export_text()


async def test_the_sms_link_opens_a_small_page_that_answers_the_call_out(
    client: httpx.AsyncClient, incident: uuid.UUID, engine: AsyncEngine, clock: FakeClock
) -> None:
    """`/r/{token}`: the call-out in the volunteer's language, two buttons, the outcome."""
    offers = await _offers(engine, incident)
    [leader, *_] = _pending(offers, "leader")
    [medic, *_] = _pending(offers, "medic")
    async with engine.connect() as connection:
        language = await connection.scalar(
            text("SELECT language FROM offers WHERE id = :o"), {"o": leader.id}
        )

    link, medic_link = await _link(engine, leader), await _link(engine, medic)
    page = await client.get(f"/r/{link}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-language"] == language
    assert "<script" not in page.text and len(page.content) < 4096, "one small page, no script"
    role = {"kk": "Рөліңіз: топ жетекшісі", "ru": "Ваша роль: руководитель группы"}
    assert role.get(language, "Your role: team leader") in page.text
    assert f'action="{link}/accept?lang={language}"' in page.text
    assert f'action="{link}/decline?lang={language}"' in page.text
    english = await client.get(f"/r/{link}", params={"lang": "en"})
    assert "Your role: team leader" in english.text and "I&#x27;m coming" in english.text

    accepted = await client.post(f"/r/{link}/accept", params={"lang": "ru"})
    assert accepted.status_code == 200, accepted.text
    assert "Вы в группе. Спасибо!" in accepted.text
    assert f'href="../{link}?lang=ru"' in accepted.text, "a way back to the call-out"
    commitments = await _count(
        engine, "SELECT count(*) FROM commitments WHERE offer_id = :o", o=leader.id
    )
    assert commitments == 1
    # Back on the call-out: what was decided, no buttons any more.
    after = await client.get(f"/r/{link}", params={"lang": "en"})
    assert "You are in the group" in after.text and "<form" not in after.text

    declined = await client.post(f"/r/{medic_link}/decline", params={"lang": "en"})
    assert declined.status_code == 200
    assert "you declined" in declined.text
    too_late = await client.post(f"/r/{medic_link}/accept", params={"lang": "en"})
    assert too_late.status_code == 409
    assert "This call-out is closed" in too_late.text

    bare_id = await client.get(f"/r/{leader.id}", params={"lang": "ru"})
    assert bare_id.status_code == 404, "the offer id alone opens nothing"
    assert "Ссылка недействительна или устарела" in bare_id.text
    # A link signed for someone else's offer, or with one character changed, is no link.
    forged = answer_links.sign(
        DEVELOPMENT_SECRET,
        offer_id=leader.id,
        volunteer_id=medic.volunteer_id,
        offer_expires_at=clock() + timedelta(hours=1),
    )
    assert (await client.get(f"/r/{forged}")).status_code == 404
    tampered = link[:-1] + ("A" if link[-1] != "A" else "B")
    assert (await client.post(f"/r/{tampered}/decline")).status_code == 404
    expired = answer_links.sign(
        DEVELOPMENT_SECRET,
        offer_id=medic.id,
        volunteer_id=medic.volunteer_id,
        offer_expires_at=clock() - answer_links.GRACE - timedelta(minutes=5),
    )
    assert (await client.get(f"/r/{expired}")).status_code == 404


@pytest.fixture
async def served_app(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    mobilizer: MobilizerService,
    clock: FakeClock,
) -> AsyncIterator[tuple[str, FastAPI]]:
    """The API on a real port, for a real browser: its address and the app (for its codes)."""
    settings = _api_settings(database_settings, kafka_settings, wait_s=20)
    # Every test signs in from 127.0.0.1, and the seeded volunteers (so their phones) are the same
    # in every run: earlier tests and runs within the window must not use up the allowance of the
    # address or of the phone (the limits have tests of their own, in test_sign_in.py).
    settings = settings.model_copy(
        update={"auth": AuthOptions(attempts_per_address=100_000, codes_per_phone=100_000)}
    )
    app = create_app(settings)
    app.state.clock = clock
    async with served_api(app) as url:
        yield url, app


@pytest.fixture
def served(served_app: tuple[str, FastAPI]) -> str:
    return served_app[0]


async def _phone_of(engine: AsyncEngine, volunteer_id: uuid.UUID) -> str:
    async with engine.connect() as connection:
        phone = await connection.scalar(
            text("SELECT phone FROM volunteers WHERE id = :v"), {"v": volunteer_id}
        )
    return str(phone)


async def test_a_push_button_phone_answers_the_sms_itself(
    client: httpx.AsyncClient, incident: uuid.UUID, engine: AsyncEngine
) -> None:
    """The gateway hands over "да 25" from a medic's number (written as people write it): the
    offer is accepted with their own 25 minutes, and the reply tells them where to go; a second
    medic's "2" declines; gibberish is explained, not decided; a stranger's number and a wrong
    token are refused without reading anything."""
    medic, other, *_ = _pending(await _offers(engine, incident), "medic")
    gateway = {"Authorization": f"Bearer {GATEWAY_TOKEN}"}
    phone = await _phone_of(engine, medic.volunteer_id)
    written = f"8 {phone[2:5]} {phone[5:8]} {phone[8:]}"  # +7701… as "8 701 …"

    async def texted(sender: str, words: str, headers: dict[str, str] = gateway) -> Any:
        return await client.post(
            "/api/v1/sms/inbound", headers=headers, json={"from": sender, "text": words}
        )

    unclear = await texted(written, "что случилось?")
    accepted = await texted(written, "да 25")
    declined = await texted(await _phone_of(engine, other.volunteer_id), " 2 ")
    nothing_left = await texted(written, "1")
    stranger = await texted("+7 700 000 00 00", "да")
    forged = await texted(written, "да", {"Authorization": "Bearer guessed"})

    assert unclear.json()["outcome"] == "not_understood"
    assert "1" in unclear.json()["reply"] and "2" in unclear.json()["reply"]
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["outcome"] == "accepted"
    lon, lat = await _meeting_point(engine, incident)
    assert f"{lat:.5f}, {lon:.5f}" in accepted.json()["reply"], "where to go, once accepted"
    eta = await _count(
        engine,
        "SELECT eta_s FROM commitments WHERE offer_id = :o",
        o=medic.id,
    )
    assert eta == 25 * 60, "their own minutes, not Jedel's estimate"
    assert declined.json()["outcome"] == "declined"
    # Nothing of this incident waits for them now: "1" again accepts nothing more (another
    # incident of the module may still ask them; in it they are refused, committed here).
    assert nothing_left.json()["outcome"] in ("no_offer", "refused"), nothing_left.text
    assert stranger.json()["outcome"] == "unknown_number"
    assert forged.status_code == 401
    states = {o.id: o.status for o in await _offers(engine, incident)}
    assert (states[medic.id], states[other.id]) == ("accepted", "declined")


async def test_a_volunteer_answers_from_the_sms_link_in_a_real_browser(
    served: str, incident: uuid.UUID, engine: AsyncEngine
) -> None:
    """Debian's Chromium opens the link, taps "I'm coming" and lands on the outcome."""
    [medic, *_] = _pending(await _offers(engine, incident), "medic")
    async with async_playwright() as playwright:
        browser = await chromium(playwright)
        try:
            # A small phone screen on a slow link.
            page = await browser.new_page(viewport={"width": 360, "height": 640})
            await page.goto(f"{served}/r/{await _link(engine, medic)}?lang=en")
            assert await page.locator("h1").count() == 1
            await page.get_by_role("button", name="I'm coming").click()
            await page.wait_for_load_state()
            status = await page.get_by_role("status").inner_text()
            back = page.get_by_role("link", name="Back to the call-out")
            await back.click()
            await page.wait_for_load_state()
            buttons = await page.get_by_role("button").count()
        finally:
            await browser.close()
    assert status == "You are in the group. Thank you!"
    assert buttons == 0, "an answered call-out shows what was decided, not the buttons"
    commitments = await _count(
        engine, "SELECT count(*) FROM commitments WHERE offer_id = :o", o=medic.id
    )
    assert commitments == 1


async def test_a_dispatcher_raises_the_offer_budget_and_the_mobilizer_applies_it(
    client: httpx.AsyncClient,
    incident: uuid.UUID,
    engine: AsyncEngine,
    dispatcher: dict[str, str],
) -> None:
    async def budget() -> int:
        return await _count(
            engine, "SELECT offer_budget FROM mobilizations WHERE incident_id = :i", i=incident
        )

    before = await budget()
    elsewhere = await client.post(
        f"{INCIDENTS}/{incident}/mobilization/budget",
        json={"by": 10},
        headers=await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-75"]),
    )
    assert elsewhere.status_code == 403
    raised = await client.post(
        f"{INCIDENTS}/{incident}/mobilization/budget",
        json={"by": 10},
        headers={**dispatcher, "Accept-Language": "ru"},
    )
    assert raised.status_code == 202, raised.text
    assert raised.json()["detail"].startswith("Лимит вызовов увеличен на 10")

    async def applied() -> bool:
        return await budget() == before + 10

    await _eventually(applied)
    state = await client.get(f"{INCIDENTS}/{incident}/mobilization", headers=dispatcher)
    assert state.json()["offers"]["budget"] == before + 10
    assert (
        await client.post(
            f"{INCIDENTS}/{incident}/mobilization/budget", json={"by": 0}, headers=dispatcher
        )
    ).status_code == 422


async def test_a_dispatcher_widens_the_radius_and_the_next_wave_looks_there(
    client: httpx.AsyncClient,
    incident: uuid.UUID,
    engine: AsyncEngine,
    dispatcher: dict[str, str],
) -> None:
    async def radius() -> int:
        return await _count(
            engine, "SELECT radius_m FROM mobilizations WHERE incident_id = :i", i=incident
        )

    async def waves() -> int:
        return await _count(
            engine, "SELECT wave FROM mobilizations WHERE incident_id = :i", i=incident
        )

    before, waves_before = await radius(), await waves()
    widen = f"{INCIDENTS}/{incident}/mobilization/widen"
    elsewhere = await client.post(
        widen, headers=await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-75"])
    )
    assert elsewhere.status_code == 403

    widened = await client.post(widen, headers={**dispatcher, "Accept-Language": "ru"})

    assert widened.status_code == 202, widened.text
    wider = max(2 * before, before + 10_000)
    assert widened.json()["detail"].startswith(f"Радиус расширяется до {wider // 1000} км")

    async def applied() -> bool:
        return await radius() >= wider

    await _eventually(applied)
    state = (await client.get(f"{INCIDENTS}/{incident}/mobilization", headers=dispatcher)).json()
    assert state["radius_m"] >= wider, "the console draws the wider circle"

    # A wave is planned at once (this module's mobilizer sweeps only hourly): it looks at the
    # wider circle and asks whom it now wants.
    async def another_wave() -> bool:
        return await waves() > waves_before

    await _eventually(another_wave)


async def test_a_dispatcher_asks_a_named_volunteer_and_is_told_why_not_when_they_cannot_be(
    client: httpx.AsyncClient,
    incident: uuid.UUID,
    engine: AsyncEngine,
    dispatcher: dict[str, str],
    population: dict[str, uuid.UUID],
) -> None:
    """The first wave asked the nearest medics; the dispatcher asks medic-5 by name: an offer of
    their own, at once. Asked again: refused. The medic whose first aid lapsed: refused, with
    why (in Russian); a dog handler cannot be a medic; a role the flood does not need: refused."""
    ask = f"/api/v1/incidents/{incident}/mobilization/ask"
    headers = {**dispatcher, "Accept-Language": "ru"}
    before = {o.volunteer_id for o in await _offers(engine, incident)}
    assert population["medic-5"] not in before, "the first wave asks the nearest, not medic-5"

    asked = await client.post(
        ask, headers=headers, json={"volunteer_id": str(population["medic-5"]), "role": "medic"}
    )
    again = await client.post(
        ask, headers=headers, json={"volunteer_id": str(population["medic-5"]), "role": "medic"}
    )
    lapsed = await client.post(
        ask,
        headers=headers,
        json={"volunteer_id": str(population["medic-expired"]), "role": "medic"},
    )
    untrained = await client.post(
        ask, headers=headers, json={"volunteer_id": str(population["dog-handler"]), "role": "medic"}
    )
    unneeded = await client.post(
        ask,
        headers=headers,
        json={"volunteer_id": str(population["medic-4"]), "role": "water_rescuer"},
    )

    assert asked.status_code == 200, asked.text
    assert asked.json() == {"asked": True, "detail": "Вызов отправлен", "lines": []}
    [offer] = [
        o for o in await _offers(engine, incident) if o.volunteer_id == population["medic-5"]
    ]
    assert (offer.role, offer.status) == ("medic", "pending")
    assert offer.wave > 1, "a wave of its own"
    assert again.status_code == 409 and "уже вызывали" in again.json()["detail"]
    assert lapsed.status_code == 409, lapsed.text
    assert lapsed.json()["asked"] is False
    assert any("истёк" in line or "истек" in line for line in lapsed.json()["lines"]), lapsed.text
    assert untrained.status_code == 409 and untrained.json()["lines"], untrained.text
    assert unneeded.status_code == 409 and "нет свободных мест" in unneeded.json()["detail"]
    statuses = {o.volunteer_id for o in await _offers(engine, incident)}
    assert population["medic-expired"] not in statuses and population["dog-handler"] not in statuses


async def test_a_dispatcher_releases_a_member_and_the_place_is_asked_for_again(
    client: httpx.AsyncClient,
    incident: uuid.UUID,
    engine: AsyncEngine,
    dispatcher: dict[str, str],
) -> None:
    [medic, *_] = _pending(await _offers(engine, incident), "medic")
    assert (await _answer(client, engine, medic, "accept")).status_code == 200
    release = f"{INCIDENTS}/{incident}/mobilization/members/{medic.volunteer_id}/release"
    elsewhere = await client.post(
        release, headers=await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-75"])
    )
    assert elsewhere.status_code == 403

    released = await client.post(release, headers={**dispatcher, "Accept-Language": "kk"})

    assert released.status_code == 202, released.text
    assert released.json()["detail"].startswith("Ерікті топтан босатылады")

    async def replaced() -> list[Any]:
        offers = await _offers(engine, incident)
        mine = next(o for o in offers if o.id == medic.id)
        if (mine.status, mine.closed_reason) != ("stood_down", "released"):
            return []
        return [o for o in offers if o.role == "medic" and o.wave > medic.wave]

    [new, *_] = await _eventually(replaced)
    assert new.volunteer_id != medic.volunteer_id
    state = (await client.get(f"{INCIDENTS}/{incident}/mobilization", headers=dispatcher)).json()
    [shown] = [m for m in state["members"] if m["volunteer_id"] == str(medic.volunteer_id)]
    assert shown["released_at"] is not None, "the console shows them released"
    held = await _count(
        engine,
        "SELECT count(*) FROM commitments WHERE offer_id = :o AND released_at IS NULL",
        o=medic.id,
    )
    assert held == 0, "the released volunteer is free for another incident"
    # They hold no place now: releasing them again is refused, and so is their own "yes".
    assert (await client.post(release, headers=dispatcher)).status_code == 404
    again = await _answer(client, engine, medic, "accept", language="ru")
    assert again.status_code == 409
    assert again.json()["closed_reason"] == "released"
    assert "диспетчер освободил вас" in again.json()["detail"]


async def test_a_dispatcher_calls_the_group_off_and_everyone_is_stood_down(
    client: httpx.AsyncClient,
    incident: uuid.UUID,
    engine: AsyncEngine,
    dispatcher: dict[str, str],
) -> None:
    [medic, *_] = _pending(await _offers(engine, incident), "medic")
    assert (await _answer(client, engine, medic, "accept")).status_code == 200
    call_off = f"{INCIDENTS}/{incident}/mobilization/call-off"
    assert (
        await client.post(
            call_off,
            headers=await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-75"]),
        )
    ).status_code == 403

    called = await client.post(call_off, headers={**dispatcher, "Accept-Language": "en"})

    assert called.status_code == 202, called.text
    assert called.json()["detail"] == "The group is being called off: everyone will be told"

    async def closed() -> bool:
        return bool(
            await _count(
                engine,
                "SELECT count(*) FROM mobilizations WHERE incident_id = :i AND status = 'closed'",
                i=incident,
            )
        )

    await _eventually(closed)
    offers = await _offers(engine, incident)
    assert not [o for o in offers if o.status == "pending"], "every offer withdrawn"
    withdrawn = {o.closed_reason for o in offers if o.status == "stood_down"}
    assert "called_off" in withdrawn and withdrawn <= {"called_off", "role_filled"}
    assert next(o for o in offers if o.id == medic.id).closed_reason == "called_off"
    held = await _count(
        engine,
        "SELECT count(*) FROM commitments WHERE incident_id = :i AND released_at IS NULL",
        i=incident,
    )
    assert held == 0


async def test_a_volunteer_signs_in_to_the_app_and_an_offline_tap_is_delivered_once(
    served_app: tuple[str, FastAPI],
    incident: uuid.UUID,
    engine: AsyncEngine,
    screenshots: Path,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> None:
    """In Russian: phone and code, the offer listed, "Еду" tapped without signal, kept, and
    sent exactly once when the signal returns; then the meeting point is shown, and "on the
    way"; "Я на месте" tapped, and the tracker has them on scene. Then their own details: a
    certificate and until when it is valid; off duty with quiet hours, saved."""
    url, app = served_app
    [medic, *_] = _pending(await _offers(engine, incident), "medic")
    async with engine.connect() as connection:
        phone = (
            await connection.execute(
                text("SELECT phone FROM volunteers WHERE id = :v"), {"v": medic.volunteer_id}
            )
        ).scalar_one()
    answers: list[int] = []
    async with (
        running_tracker(database_settings, kafka_settings, redis_settings),
        async_playwright() as playwright,
    ):
        browser = await chromium(playwright)
        try:
            context = await browser.new_context(
                viewport={"width": 360, "height": 640}, locale="ru-RU"
            )
            page = await context.new_page()
            page.on(
                "response",
                lambda r: answers.append(r.status) if r.url.endswith("/accept") else None,
            )
            await page.goto(f"{url}/app?lang=ru")
            assert await page.locator("html").get_attribute("lang") == "ru"
            await page.get_by_label("Ваш номер телефона").fill(phone)
            await page.get_by_role("button", name="Отправить код").click()
            code = page.get_by_label("Код из SMS")
            await code.wait_for()
            await code.fill(app.state.code_sender.sent[-1][1])
            await page.get_by_role("button", name="Войти").click()
            card = page.locator(f'[data-offer="{medic.id}"]')
            await card.wait_for(timeout=10_000)
            assert "Место сбора" not in await card.inner_text(), "no scene before accepting"
            await page.screenshot(path=str(screenshots / "app-offer-ru.png"))

            await context.set_offline(True)
            await card.get_by_role("button", name="Еду").click()
            await page.get_by_text("Нет связи: ответ сохранён").first.wait_for(timeout=5_000)
            await page.screenshot(path=str(screenshots / "app-offline-ru.png"))
            assert answers == [], "nothing left the phone without signal"
            await context.set_offline(False)
            await card.get_by_text("Место сбора").wait_for(timeout=20_000)
            await page.screenshot(path=str(screenshots / "app-accepted-ru.png"))
            await page.reload()
            card = page.locator(f'[data-offer="{medic.id}"]')
            await card.get_by_text("Место сбора").wait_for()

            # Deployed: where they are, said in one tap; the tracker takes their word.
            await expect(card.locator(".field")).to_have_text("Сейчас: в пути", timeout=20_000)
            await card.get_by_role("button", name="Я на месте").click()
            await expect(card.locator(".field")).to_have_text("Сейчас: на месте", timeout=10_000)
            on_scene = (
                "SELECT count(*) FROM deployments WHERE offer_id = :o AND status = 'on_scene'"
            )
            await _eventually(lambda: _count(engine, on_scene, o=medic.id))
            await page.screenshot(path=str(screenshots / "app-on-scene-ru.png"))

            # Their own details, opened only when asked for: the certificate and its date, and
            # off duty with quiet hours, saved.
            await page.get_by_text("Мои данные").click()
            await page.get_by_text("Первая помощь — действует до").wait_for(timeout=10_000)
            await page.get_by_label("Сейчас недоступен (не вызывать)").check()
            await page.get_by_label("Тихие часы: с").fill("22:30")
            await page.get_by_label("Тихие часы: до").fill("07:00")
            await page.get_by_role("button", name="Сохранить").click()
            await page.get_by_text("Сохранено").wait_for(timeout=10_000)
            await page.screenshot(path=str(screenshots / "app-me-ru.png"))
            set_to = await _count(
                engine,
                "SELECT count(*) FROM volunteers WHERE id = :v AND availability = 'off_duty'"
                " AND quiet_hours_start = '22:30' AND quiet_hours_end = '07:00'",
                v=medic.volunteer_id,
            )
            assert set_to == 1
        finally:
            await browser.close()
            async with engine.begin() as connection:  # the module's other tests ask them again
                await connection.execute(
                    text(
                        "UPDATE volunteers SET availability = 'available',"
                        " quiet_hours_start = NULL, quiet_hours_end = NULL WHERE id = :v"
                    ),
                    {"v": medic.volunteer_id},
                )
    assert len([status for status in answers if status < 300]) == 1, answers
    commitments = await _count(
        engine, "SELECT count(*) FROM commitments WHERE offer_id = :o", o=medic.id
    )
    assert commitments == 1


async def test_the_app_speaks_kazakh_first(client: httpx.AsyncClient) -> None:
    page = await client.get("/app", headers={"Accept-Language": "de"})
    assert page.status_code == 200
    assert '<html lang="kk">' in page.text
    assert "Код жіберу" in page.text
    assert "Отправить код" in (await client.get("/app?lang=ru")).text
    worker = await client.get("/app/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")


@pytest.fixture
async def listed(
    incident: uuid.UUID, clock: FakeClock, engine: AsyncEngine
) -> AsyncIterator[uuid.UUID]:
    """The mobilised flood also in the intake's table, for the console's list and map."""
    texts = tuple(
        LocalizedText(language=language, event=event, headline=headline)
        for language, event, headline in (
            ("kk", "Су тасқыны", "Тобыл өзені тасыды"),
            ("ru", "Паводок", "Разлив реки Тобол"),
            ("en", "Flood", "Tobol river flood"),
        )
    )
    await list_incident(engine, flood(clock(), incident_id=incident, texts=texts))
    yield incident
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM incidents WHERE id = :i"), {"i": incident})


@pytest.mark.parametrize(
    ("language", "accepted_header", "nothing_here"),
    [
        ("kk", "Келісті", "Сіздің өңірлеріңізде ашық оқиға жоқ"),
        ("ru", "Согласились", "В ваших регионах открытых происшествий нет"),
    ],
)
async def test_the_dispatchers_table_shows_an_accept_within_two_seconds_and_another_region_nothing(
    served_app: tuple[str, FastAPI],
    listed: uuid.UUID,
    engine: AsyncEngine,
    screenshots: Path,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
    publish: Publish,
    language: str,
    accepted_header: str,
    nothing_here: str,
) -> None:
    """Kostanay's dispatcher watches the flood's group in the console; a medic accepts; the medic
    row counts them within 2 s (through the broker, the tracker, Redis and the live stream); their
    phone's fix at the meeting point then shows them on scene.
    Almaty's dispatcher, signed in at the same time, is shown no incident at all."""
    url, _ = served_app
    [medic, *_] = _pending(await _offers(engine, listed), "medic")
    kostanay, almaty = f"kostanay-{new_run()}", f"almaty-{new_run()}"
    await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"], username=kostanay)
    await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-75"], username=almaty)
    volunteer = await as_volunteer(engine, medic.volunteer_id)
    async with (
        running_tracker(database_settings, kafka_settings, redis_settings),
        async_playwright() as playwright,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        browser = await chromium(playwright)
        try:
            here = await console_page(browser, url, language, kostanay)
            elsewhere = await console_page(browser, url, language, almaty)
            await here.locator(f'[data-incident="{listed}"]').click()
            row = here.locator('#roles tr[data-role="medic"]')
            await row.wait_for(timeout=10_000)
            assert accepted_header in await here.locator("#roles thead").inner_text()
            before = int(await row.locator("td.accepted").inner_text())
            await here.locator("#live.on").wait_for(timeout=10_000)

            tapped = time.monotonic()
            answered = await http.post(f"/api/v1/offers/{medic.id}/accept", headers=volunteer)
            assert answered.status_code == 200, answered.text
            await expect(row.locator("td.accepted")).to_have_text(str(before + 1), timeout=2_000)
            shown_after_s = time.monotonic() - tapped

            # At the meeting point: the tracker tells, the mobilizer closes the ETA, the console
            # shows them on scene.
            lon, lat = KOSTANAY
            here_now = VolunteerLocated(
                volunteer_id=medic.volunteer_id,
                longitude=lon,
                latitude=lat,
                accuracy_m=10,
                recorded_at=datetime.now(UTC),
            )
            member = here.locator(f'.members li[data-volunteer="{medic.volunteer_id}"]')
            await member.wait_for(timeout=5_000)
            await publish(topics.LOCATIONS, medic.volunteer_id, here_now)
            await expect(member).to_have_class("arrived", timeout=15_000)
            await here.screenshot(path=str(screenshots / f"console-accepted-{language}.png"))

            await elsewhere.get_by_text(nothing_here).wait_for(timeout=5_000)
            assert await elsewhere.locator("[data-incident]").count() == 0
            await elsewhere.screenshot(path=str(screenshots / f"console-elsewhere-{language}.png"))
        finally:
            await browser.close()
    print(f"accept to dispatcher's table: {shown_after_s:.2f} s")
    assert shown_after_s < 2.0


async def test_a_dispatcher_releases_widens_and_calls_the_group_off_from_the_console(
    served_app: tuple[str, FastAPI],
    clock: FakeClock,
    listed: uuid.UUID,
    engine: AsyncEngine,
    screenshots: Path,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> None:
    """In Russian: the medic who accepted is released with the row's button (after a question);
    the console shows them released and a new medic is asked; the radius is widened and the
    console shows the new one; then the whole group is called off and the console shows it
    closed, with nobody left to release."""
    url, _ = served_app
    [medic, *_] = _pending(await _offers(engine, listed), "medic")
    username = f"kostanay-{new_run()}"
    await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"], username=username)
    volunteer = await as_volunteer(engine, medic.volunteer_id)
    async with (
        running_tracker(database_settings, kafka_settings, redis_settings),
        async_playwright() as playwright,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        browser = await chromium(playwright)
        try:
            page = await console_page(browser, url, "ru", username)
            asked: list[str] = []

            async def answer(dialog: Any) -> None:
                asked.append(dialog.message)
                await dialog.accept()

            page.on("dialog", answer)
            await page.locator(f'[data-incident="{listed}"]').click()
            await page.locator("#live.on").wait_for(timeout=10_000)
            accepted = await http.post(f"{OFFERS}/{medic.id}/accept", headers=volunteer)
            assert accepted.status_code == 200, accepted.text
            member = page.locator(f'.members li[data-volunteer="{medic.volunteer_id}"]')
            await member.wait_for(timeout=10_000)

            # Their phone, with their consent, reports two fixes by the meeting point: the map
            # shows where they are (and their track) once the tracker has them on scene.
            consent = await http.put(
                "/api/v1/me/consents/location_sharing", headers=volunteer, json={"given": True}
            )
            assert consent.status_code == 200, consent.text
            lon, lat = await _meeting_point(engine, listed)
            now = clock.now  # the API's clock: the flood's day
            fixes = [
                {"longitude": lon + east, "latitude": lat, "recorded_at": at.isoformat()}
                for east, at in ((0.02, now - timedelta(minutes=2)), (0.001, now))
            ]
            sent = await http.post("/api/v1/me/locations", headers=volunteer, json={"fixes": fixes})
            assert sent.json()["accepted"] == 2, sent.text
            await expect(page.locator("path.member-position")).to_have_count(1, timeout=10_000)
            await expect(member).to_contain_text("на месте", timeout=10_000)
            await page.screenshot(path=str(screenshots / "console-positions-ru.png"))

            await member.locator("button.release").click(timeout=10_000)
            await expect(member).to_have_class("released", timeout=10_000)
            await expect(member).to_contain_text("освобождён")
            assert asked and asked[0].startswith("Освободить medic-1?")

            async def another_medic() -> list[Any]:
                offers = await _offers(engine, listed)
                return [o for o in offers if o.role == "medic" and o.wave > medic.wave]

            await _eventually(another_medic)
            await page.screenshot(path=str(screenshots / "console-released-ru.png"))

            status = page.locator("#group .status")
            reach = await status.inner_text()
            await page.locator("#widen").click()
            await expect(status).not_to_have_text(reach, timeout=10_000)
            km_before, km_after = (
                float(re.search(r"радиус ([\d.]+) км", text).group(1))  # type: ignore[union-attr]
                for text in (reach, await status.inner_text())
            )
            assert km_after >= max(2 * km_before, km_before + 10)

            await page.locator("#call-off").click()
            await expect(page.locator("#group .status")).to_contain_text("Закрыто", timeout=10_000)
            await expect(page.locator("#call-off")).to_have_count(0)
            await expect(page.locator(".members button.release")).to_have_count(0)
            assert asked[-1] == "Отозвать все вызовы и отпустить участников группы?"
            await page.screenshot(path=str(screenshots / "console-called-off-ru.png"))
        finally:
            await browser.close()


@asynccontextmanager
async def _kostanay_console(url: str, engine: AsyncEngine, language: str) -> AsyncIterator[Any]:
    """A new dispatcher of Kostanay region, signed in to the console in `language`: the page."""
    username = f"kostanay-{language}-{new_run()}"
    await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-39"], username=username)
    async with async_playwright() as playwright:
        browser = await chromium(playwright)
        try:
            yield await console_page(browser, url, language, username)
        finally:
            await browser.close()


async def _ask(page: Any, line: Any, role: str, *, button: str, said: str) -> None:
    """Ask the person on `line` for `role` with its button; the console says `said`."""
    await line.locator("select").select_option(role)
    await line.get_by_role("button", name=button).click()
    await expect(page.locator("#group > .note")).to_contain_text(said, timeout=10_000)


async def test_a_dispatcher_asks_a_named_volunteer_from_the_console_in_kazakh(
    served_app: tuple[str, FastAPI],
    listed: uuid.UUID,
    engine: AsyncEngine,
    population: dict[str, uuid.UUID],
    screenshots: Path,
) -> None:
    """In Kazakh: the dispatcher opens who was asked and why, and asks someone the first wave
    looked at but did not ask, from their line; the console says it was sent, and the offer is
    out."""
    url, _ = served_app
    async with _kostanay_console(url, engine, "kk") as page:
        await page.locator(f'[data-incident="{listed}"]').click()
        await page.get_by_text("Кім шақырылды және неге").click()
        eligible = [population[name] for name in ("medic-4", "medic-5", "leader-far")]
        # Someone the first wave looked at and did not ask (the list is redrawn on live changes:
        # the locator is found again at each step).
        askable = page.locator(
            ", ".join(f'.why li:has(select)[data-volunteer="{v}"]' for v in eligible)
        ).first
        await askable.wait_for(timeout=15_000)
        chosen = uuid.UUID(await askable.get_attribute("data-volunteer") or "")
        line = page.locator(f'.why li[data-volunteer="{chosen}"]')
        role = "leader" if chosen == population["leader-far"] else "medic"
        await _ask(page, line, role, button="Шақыру", said="Шақыру жіберілді")
        await page.screenshot(path=str(screenshots / "console-asked-kk.png"))
    [offer] = [o for o in await _offers(engine, listed) if o.volunteer_id == chosen]
    assert (offer.role, offer.status) == (role, "pending")


@pytest.fixture
async def standing(
    engine: AsyncEngine, population: dict[str, uuid.UUID]
) -> AsyncIterator[dict[str, uuid.UUID]]:
    """Standing groups in Kostanay (the floods' region), Akmola (its neighbour) and Almaty (far
    away); removed afterwards, for matching ranks standing groups first."""
    groups = {"KZ-39": uuid.uuid4(), "KZ-11": uuid.uuid4(), "KZ-75": uuid.uuid4()}
    members = {
        "KZ-39": [("medic-4", "medic"), ("medic-1", "medic")],
        "KZ-11": [("medic-5", "medic")],  # not asked by the first wave (it asks the nearest)
        "KZ-75": [("leader-far", "leader")],
    }
    async with engine.begin() as connection:
        for region, group in groups.items():
            await connection.execute(
                text(
                    "INSERT INTO mobile_groups (id, region_code, name, is_pilot)"
                    " VALUES (:g, :r, :n, false)"
                ),
                {"g": group, "r": region, "n": f"Group {region}"},
            )
            for name, role in members[region]:
                await connection.execute(
                    text(
                        "INSERT INTO mobile_group_members (group_id, volunteer_id, role, on_call)"
                        " VALUES (:g, :v, :role, true)"
                    ),
                    {"g": group, "v": population[name], "role": role},
                )
    yield groups
    async with engine.begin() as connection:
        await connection.execute(
            text("DELETE FROM mobile_groups WHERE id = ANY(:ids)"), {"ids": list(groups.values())}
        )


async def test_the_standing_groups_of_the_region_and_its_neighbours_can_be_asked_by_name(
    client: httpx.AsyncClient,
    incident: uuid.UUID,
    engine: AsyncEngine,
    dispatcher: dict[str, str],
    population: dict[str, uuid.UUID],
    standing: dict[str, uuid.UUID],
) -> None:
    """Kostanay's standing group first, then Akmola's (a neighbour), never Almaty's; each member
    with their role, distance and whether this incident asked them already; a dispatcher of
    another region sees none of it."""
    path = f"/api/v1/incidents/{incident}/standing-groups"
    shown = await client.get(path, headers=dispatcher)
    elsewhere = await client.get(
        path, headers=await headers_for(engine, AccountRole.DISPATCHER, regions=["KZ-75"])
    )

    assert shown.status_code == 200, shown.text
    listed = shown.json()
    assert [(g["region_code"], g["own_region"]) for g in listed] == [
        ("KZ-39", True),
        ("KZ-11", False),
    ], "the group's own region, then its neighbour; Almaty borders neither"
    own = {m["name"]: m for m in listed[0]["members"]}
    asked = {o.volunteer_id: o.status for o in await _offers(engine, incident)}
    assert own["medic-1"]["offer_status"] == asked[population["medic-1"]], "the first wave's"
    assert own["medic-4"]["offer_status"] == asked.get(population["medic-4"])
    assert own["medic-4"]["distance_m"] == pytest.approx(3_500, rel=0.1)
    assert [m["name"] for m in listed[1]["members"]] == ["medic-5"]
    assert elsewhere.status_code == 403
    assert "medic-4" not in elsewhere.text


async def test_a_dispatcher_asks_a_neighbouring_regions_group_member_from_the_console(
    served_app: tuple[str, FastAPI],
    listed: uuid.UUID,
    engine: AsyncEngine,
    population: dict[str, uuid.UUID],
    standing: dict[str, uuid.UUID],
    screenshots: Path,
) -> None:
    """In English: the standing groups, opened, show Akmola's as a neighbour; its medic (whom
    the first wave did not ask) is asked by name for an open medic's place."""
    url, _ = served_app
    medic = population["medic-5"]
    async with _kostanay_console(url, engine, "en") as page:
        await page.locator(f'[data-incident="{listed}"]').click()
        await page.get_by_text("Standing groups (this region and its neighbours)").click()
        await expect(page.locator(".standing h4").nth(1)).to_have_text(
            "Group KZ-11 · KZ-11 · neighbouring region", timeout=10_000
        )
        line = page.locator(f'.standing li[data-volunteer="{medic}"]')
        await _ask(page, line, "medic", button="Ask", said="medic-5: The call-out was sent")
        await page.screenshot(path=str(screenshots / "console-standing-en.png"))
    [offer] = [o for o in await _offers(engine, listed) if o.volunteer_id == medic]
    assert (offer.role, offer.status) == ("medic", "pending")


async def test_a_phone_with_two_call_outs_waiting_is_asked_which_one_and_answers_by_number(
    client: httpx.AsyncClient,
    incident: uuid.UUID,
    engine: AsyncEngine,
    publish: Publish,
    clock: FakeClock,
) -> None:
    """Two floods ask the same volunteer: a bare "1" decides nothing and lists both, oldest
    first, in their language; "2 иә" accepts the second flood's call-out, and the first stays
    waiting."""
    clock.advance(timedelta(seconds=1))  # the second flood's call-outs come a second later
    second = flood(clock())
    await publish(topics.INCIDENTS, second.incident_id, second)

    async def asked_in_both() -> Any:
        first_wave = {o.volunteer_id: o for o in _pending(await _offers(engine, incident), "medic")}
        second_wave = {
            o.volunteer_id: o
            for o in await _offers(engine, second.incident_id)
            if o.status == "pending"
        }
        both = sorted(first_wave.keys() & second_wave.keys())
        return (first_wave[both[0]], second_wave[both[0]]) if both else None

    earlier, later = await _eventually(asked_in_both)
    gateway = {"Authorization": f"Bearer {GATEWAY_TOKEN}"}
    phone = await _phone_of(engine, earlier.volunteer_id)

    async def texted(words: str) -> Any:
        response = await client.post(
            "/api/v1/sms/inbound", headers=gateway, json={"from": phone, "text": words}
        )
        assert response.status_code == 200, response.text
        return response.json()

    unclear = await texted("1")
    chosen = await texted("2 иә")

    assert unclear["outcome"] == "choose"
    assert "1) " in unclear["reply"] and "2) " in unclear["reply"], unclear["reply"]
    assert unclear["reply"].count("медик") == 2  # the role, in their language (ru or kk)
    states = {o.id: o.status for o in await _offers(engine, incident)}
    assert states[earlier.id] == "pending", "nothing decided on a guess"
    assert chosen["outcome"] == "accepted", chosen
    later_states = {o.id: o.status for o in await _offers(engine, second.incident_id)}
    assert later_states[later.id] == "accepted"
    states = {o.id: o.status for o in await _offers(engine, incident)}
    assert states[earlier.id] != "accepted"
    facts = second.model_dump(exclude={"event_id", "occurred_at", "kind", "status"})
    await publish(
        topics.INCIDENTS,
        second.incident_id,
        IncidentCancelled(**facts, status=IncidentStatus.CANCELLED),
    )
