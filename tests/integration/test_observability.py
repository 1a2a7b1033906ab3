"""What operators see, from running services: /metrics moves with real messages, dead letters are
counted by code, /readyz says what a service waits for, and nothing personal is exposed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.main import create_app
from services.api.settings import ApiOptions, ApiSettings
from services.intake.main import IntakeService
from services.tracker.main import TrackerService
from services.tracker.settings import TrackerOptions, TrackerSettings
from shared.events import topics
from shared.logs import mask_sensitive
from shared.settings import DatabaseSettings, KafkaSettings, RedisSettings
from tests.factories import HOSTILE, cap, new_run
from tests.kafka_tail import eventually
from tests.running import api_client, running_intake

pytestmark = pytest.mark.integration

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(exposition: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def series(samples: Samples, name: str, **labels: str) -> list[dict[str, str]]:
    wanted = set(labels.items())
    return [dict(key) for (found, key) in samples if found == name and wanted <= key]


async def scrape(port: int) -> Samples:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


async def ready(port: int) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(f"http://127.0.0.1:{port}/readyz")


@pytest.fixture(scope="module")
async def intake(
    database_settings: DatabaseSettings, kafka_settings: KafkaSettings, engine: AsyncEngine
) -> AsyncIterator[IntakeService]:
    async with running_intake(
        database_settings,
        # From the end of the topics: what other tests published before is not counted here.
        kafka_settings.model_copy(update={"auto_offset_reset": "latest"}),
        engine,
        metrics_port=0,  # any free port
    ) as service:
        await eventually(lambda: _is_ready(service))
        # Every partition fetched once (its lag known): from here on, every message is counted.
        await eventually(lambda: _lag_known(service, partitions=2 * kafka_settings.partitions))
        yield service


async def _is_ready(service: IntakeService) -> bool:
    return (await ready(port_of(service))).status_code == 200


async def _lag_known(service: IntakeService, *, partitions: int) -> bool:
    lag = series(await scrape(port_of(service)), "jedel_consumer_lag_messages", service="intake")
    return len(lag) >= partitions


def port_of(service: IntakeService | TrackerService) -> int:
    assert service.status is not None, "metrics_port was set: the status server runs"
    return service.status.port


async def test_intake_is_ready_once_it_holds_partitions_and_the_database_answers(
    intake: IntakeService,
) -> None:
    async def answered() -> httpx.Response | None:
        response = await ready(port_of(intake))
        return response if response.status_code == 200 else None

    response = await eventually(answered)
    assert isinstance(response, httpx.Response)
    assert response.json() == {
        "ready": True,
        "checks": {"broker": "ok", "partitions": "ok", "database": "ok"},
    }


async def test_a_handled_alert_moves_the_counters_of_its_topic(
    intake: IntakeService, publish_bytes: Any
) -> None:
    port = port_of(intake)
    labels = {"service": "intake", "topic": topics.ALERTS_CAP}
    before = await scrape(port)
    run = new_run()
    await publish_bytes(topics.ALERTS_CAP, cap("flood_kostanay_12.xml", run=run))

    async def counted() -> Samples | None:
        now = await scrape(port)
        moved = sample(now, "jedel_messages_total", outcome="processed", **labels) > sample(
            before, "jedel_messages_total", outcome="processed", **labels
        )
        published = sample(
            now,
            "jedel_events_published_total",
            outbox="intake_outbox",
            topic=topics.INCIDENTS,
            event_type="IncidentOpened",
        ) > sample(
            before,
            "jedel_events_published_total",
            outbox="intake_outbox",
            topic=topics.INCIDENTS,
            event_type="IncidentOpened",
        )
        return now if moved and published else None

    after = await eventually(counted)
    assert isinstance(after, dict)
    assert sample(after, "jedel_message_handling_seconds_count", **labels) > sample(
        before, "jedel_message_handling_seconds_count", **labels
    )
    # The relay measured its outbox, and the consumer's lag is known per partition.
    assert series(after, "jedel_outbox_pending_rows", outbox="intake_outbox")
    assert series(after, "jedel_outbox_oldest_pending_age_seconds", outbox="intake_outbox")
    lag = series(after, "jedel_consumer_lag_messages", **labels)
    assert lag and {entry["partition"] for entry in lag} <= {"0", "1"}


async def test_a_rejected_alert_counts_a_dead_letter_by_its_code(
    intake: IntakeService, publish_bytes: Any
) -> None:
    port = port_of(intake)
    letter = {"service": "intake", "source_topic": topics.ALERTS_CAP, "code": "malformed_xml"}
    handled = {"service": "intake", "topic": topics.ALERTS_CAP, "outcome": "dead_lettered"}
    before = await scrape(port)
    await publish_bytes(topics.ALERTS_CAP, (HOSTILE / "malformed.xml").read_bytes())

    async def counted() -> Samples | None:
        now = await scrape(port)
        more = sample(now, "jedel_dead_letters_total", **letter) - sample(
            before, "jedel_dead_letters_total", **letter
        )
        return now if more >= 1 else None

    after = await eventually(counted)
    assert isinstance(after, dict)
    assert sample(after, "jedel_dead_letters_total", **letter) == (
        sample(before, "jedel_dead_letters_total", **letter) + 1
    )
    assert sample(after, "jedel_messages_total", **handled) == (
        sample(before, "jedel_messages_total", **handled) + 1
    )


async def test_a_tracker_not_started_says_what_it_waits_for(
    database_settings: DatabaseSettings, kafka_settings: KafkaSettings
) -> None:
    settings = TrackerSettings(
        database=database_settings,
        kafka=kafka_settings,
        redis=RedisSettings(url="redis://127.0.0.1:1/0", timeout_s=0.2),  # nothing listens
        metrics_port=0,
        readiness_timeout_s=1.0,
        tracker=TrackerOptions(group_id=f"jedel-tracker-{new_run()}"),
    )
    service = TrackerService(settings)
    await service.start_status()  # as when it starts: before the broker is
    try:
        response = await ready(port_of(service))
    finally:
        await service.close()
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["checks"]["database"] == "ok"
    assert body["waiting_for"] == ["broker", "partitions", "redis"]
    assert body["checks"]["redis"].startswith("unavailable (")


# --- The API --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def api(
    database_settings: DatabaseSettings, kafka_settings: KafkaSettings
) -> AsyncIterator[httpx.AsyncClient]:
    settings = ApiSettings(environment="test", database=database_settings, kafka=kafka_settings)
    async with api_client(settings) as http:
        yield http


async def test_the_api_is_ready_when_the_database_and_the_broker_answer(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "checks": {"database": "ok", "broker": "ok"},
        "waiting_for": [],
    }


async def test_the_api_without_a_broker_is_not_ready_and_says_so(
    database_settings: DatabaseSettings, kafka_settings: KafkaSettings
) -> None:
    away = kafka_settings.model_copy(update={"bootstrap_servers": "127.0.0.1:1"})
    app = create_app(
        ApiSettings(
            environment="test",
            database=database_settings,
            kafka=away,
            api=ApiOptions(publish_timeout_s=0.5, health_timeout_s=1.0),
        )
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        response = await http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["waiting_for"] == ["broker"]
    assert body["checks"]["database"] == "ok"


async def test_the_api_counts_requests_by_route_template_method_and_status(
    api: httpx.AsyncClient,
) -> None:
    incident = uuid4()
    labels = {"route": "/api/v1/incidents/{incident_id}", "method": "GET", "status": "404"}
    before = parse((await api.get("/metrics")).text)
    assert (await api.get(f"/api/v1/incidents/{incident}")).status_code == 404
    assert (await api.get("/nowhere")).status_code == 404
    scrape_ = await api.get("/metrics")
    assert scrape_.status_code == 200
    assert scrape_.headers["content-type"].startswith("text/plain")
    after = parse(scrape_.text)
    assert sample(after, "jedel_http_requests_total", **labels) == (
        sample(before, "jedel_http_requests_total", **labels) + 1
    )
    assert sample(
        after, "jedel_http_requests_total", route="unmatched", method="GET", status="404"
    ) > sample(before, "jedel_http_requests_total", route="unmatched", method="GET", status="404")
    assert (
        sample(
            after,
            "jedel_http_request_duration_seconds_count",
            route="/api/v1/incidents/{incident_id}",
            method="GET",
        )
        > 0
    )
    assert str(incident) not in scrape_.text


async def test_metrics_and_readiness_need_no_sign_in_and_hold_nothing_personal(
    api: httpx.AsyncClient, database_settings: DatabaseSettings
) -> None:
    """The authorisation rule for /metrics and /readyz: open to anyone who reaches the port, like
    /healthz (orchestrators and Prometheus sign in nowhere), so they must say nothing about anyone:
    no ids, no phone numbers, no names, no connection strings or passwords."""
    volunteer, offer = uuid4(), uuid4()
    phone = "+77011234567"
    # Requests that carry personal data in their paths and bodies.
    await api.get(f"/r/{offer}")
    await api.post(f"/api/v1/offers/{offer}/accept", json={"volunteer_id": str(volunteer)})
    await api.get("/api/v1/incidents", params={"q": phone})
    responses = [await api.get("/metrics"), await api.get("/readyz")]
    password = make_url(database_settings.url).password
    for response in responses:
        assert response.status_code == 200, "no credentials are asked for"
        body = response.text
        assert not UUID.search(body), "no ids of people, offers or incidents"
        assert mask_sensitive(body) == body, "no phone numbers"
        assert "postgresql" not in body
        assert not password or password not in body
    assert "/r/{token}" in responses[0].text, "routes appear as templates only"
