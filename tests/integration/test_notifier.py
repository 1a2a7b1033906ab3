"""The notifier, running for real: offers and stand-downs in through the broker, out by SMS (a local
HTTP gateway) and to the in-app inbox (Redis), delivery reports on notifications.v1; retries of an
unavailable gateway from the notifier's table, behind a circuit breaker.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.seed import seed_reference
from services.api.settings import ApiSettings, AuthOptions
from services.notifier.breaker import BreakerState
from services.notifier.main import NotifierService
from services.notifier.plan import answer_url, notification_id, plan_offer
from services.notifier.repository import AttemptRepository
from services.notifier.retry import EXPIRED
from services.notifier.settings import NotifierOptions, NotifierSettings
from services.notifier.sign_in import text_code
from shared.broker_access import ADMIN
from shared.events import topics
from shared.events.alerts import DeadLetter
from shared.events.base import Event, utc_now
from shared.events.mobilization import (
    OfferAccepted,
    OfferStoodDown,
    StandDownReason,
)
from shared.events.sign_in import SignInCodeRequested
from shared.events.volunteers import Role
from shared.kafka import build_broker
from shared.settings import DatabaseSettings, KafkaSettings, RedisSettings
from tests.factories import a_phone, an_offer, new_run, stand_down_of
from tests.kafka_tail import Record, Tail, eventually
from tests.running import api_client
from tests.sms_gateway import FakeSmsGateway, GatewayRequest

pytestmark = pytest.mark.integration

GATEWAY_TOKEN = "test-gateway-token"
MAX_SEND_ATTEMPTS = 3
# Fewer failures open the circuit than a notification may have: one has an attempt left for the
# probe. The cool-down outlasts the short offer of the outage test.
BREAKER_FAILURES = 2
BREAKER_COOL_DOWN_S = 3.0


@pytest.fixture(scope="module")
def gateway() -> Iterator[FakeSmsGateway]:
    fake = FakeSmsGateway().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def inbox_prefix() -> str:
    return f"test-notifier-{new_run()}:jedel:inbox:"


@pytest.fixture(scope="module")
async def redis(redis_settings: RedisSettings, inbox_prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_settings.url, decode_responses=True)
    yield client
    async for key in client.scan_iter(match=f"{inbox_prefix}*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture(scope="module")
async def notifier(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
    engine: AsyncEngine,
    gateway: FakeSmsGateway,
    inbox_prefix: str,
) -> AsyncIterator[NotifierService]:
    async with engine.begin() as connection:
        await connection.execute(
            text("TRUNCATE notification_retries, notification_attempts, notifier_outbox")
        )
    settings = NotifierSettings(
        database=database_settings,
        # From the end of mobilization.v1: the offers other modules' tests published are not
        # this module's to deliver (a real Kafka keeps them all; reading them costs minutes).
        kafka=kafka_settings.model_copy(update={"auto_offset_reset": "latest"}),
        redis=redis_settings,
        notifier=NotifierOptions(
            group_id=f"jedel-notifier-{new_run()}",
            sms_gateway_url=gateway.url,
            sms_gateway_token=GATEWAY_TOKEN,
            sms_timeout_s=2.0,
            public_url="https://jedel.kz",
            inbox_key_prefix=inbox_prefix,
            max_send_attempts=MAX_SEND_ATTEMPTS,
            retry_backoff_s=0.05,
            send_retry_base_s=0.5,
            send_retry_cap_s=2.0,
            retry_poll_s=0.1,
            retry_lease_s=10.0,
            breaker_failures=BREAKER_FAILURES,
            breaker_cool_down_s=BREAKER_COOL_DOWN_S,
        ),
    )
    service = NotifierService(settings)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture(autouse=True)
def closed_circuits(notifier: NotifierService) -> None:
    """Each test starts with every channel's circuit closed, whatever the one before did."""
    for breaker in notifier.delivery.breakers.values():
        breaker.reset()


@pytest.fixture(scope="module")
async def tail(kafka_settings: KafkaSettings, notifier: NotifierService) -> AsyncIterator[Tail]:
    opened = await Tail.open(kafka_settings, (topics.NOTIFICATIONS, topics.EVENTS_DEAD_LETTER))
    yield opened
    await opened.close()


class Publisher:
    def __init__(self, kafka_settings: KafkaSettings) -> None:
        self.broker = build_broker(kafka_settings, principal=ADMIN)

    async def event(self, event: Event, *, key: UUID) -> tuple[int, int]:
        headers = {"event_type": type(event).__name__, "event_id": str(event.event_id)}
        return await self.raw(event.model_dump_json().encode(), key=key, headers=headers)

    async def raw(self, value: bytes, *, key: UUID, headers: dict[str, str]) -> tuple[int, int]:
        metadata = await self.broker.publish(
            value, topics.MOBILIZATION, key=str(key).encode(), headers=headers
        )
        return metadata.partition, metadata.offset


@pytest.fixture
async def publish(kafka_settings: KafkaSettings) -> AsyncIterator[Publisher]:
    publisher = Publisher(kafka_settings)
    await publisher.broker.connect()
    yield publisher
    await publisher.broker.stop()


def reports_of(event: Event, channel: str | None = None) -> Any:
    def matches(record: Record) -> bool:
        if record.topic != topics.NOTIFICATIONS:
            return False
        report = json.loads(record.value)
        return report["source_event_id"] == str(event.event_id) and channel in (
            None,
            report["channel"],
        )

    return matches


async def report(
    tail: Tail, event: Event, channel: str, *, timeout_s: float = 30.0
) -> dict[str, Any]:
    [record] = await tail.wait_for(reports_of(event, channel), timeout_s=timeout_s)
    body: dict[str, Any] = json.loads(record.value)
    assert record.key == body["volunteer_id"].encode(), "reports are keyed by volunteer"
    assert record.headers["event_type"] == "NotificationReported"
    return body


async def attempt_row(engine: AsyncEngine, event: Event, channel: str) -> dict[str, Any]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT * FROM notification_attempts "
                    "WHERE source_event_id = :event_id AND channel = :channel"
                ),
                {"event_id": event.event_id, "channel": channel},
            )
        ).one()
    return row._asdict()


async def retry_row(engine: AsyncEngine, event: Event, channel: str) -> dict[str, Any] | None:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT * FROM notification_retries WHERE notification_id = :id"),
                {"id": notification_id(event.event_id, channel)},
            )
        ).one_or_none()
    return row._asdict() if row is not None else None


async def inbox(redis: Redis, prefix: str, volunteer_id: UUID) -> list[dict[str, Any]]:
    return [json.loads(entry) for entry in await redis.lrange(f"{prefix}{volunteer_id}", 0, -1)]


async def test_an_offer_goes_by_sms_and_to_the_in_app_inbox_and_both_are_reported(
    notifier: NotifierService,
    tail: Tail,
    publish: Publisher,
    gateway: FakeSmsGateway,
    redis: Redis,
    inbox_prefix: str,
    engine: AsyncEngine,
) -> None:
    offer = an_offer(role=Role.WATER_RESCUER, headline="Паводок: Костанай")
    live: Any = redis.pubsub()  # redis-py leaves PubSub partly untyped
    await live.subscribe(f"{inbox_prefix}{offer.volunteer_id}")
    await publish.event(offer, key=offer.incident_id)

    sms = await report(tail, offer, "sms")
    in_app = await report(tail, offer, "in_app")
    assert (sms["status"], sms["attempt"]) == ("sent", 1)
    assert (in_app["status"], in_app["attempt"]) == ("delivered", 1)
    assert sms["offer_id"] == in_app["offer_id"] == str(offer.offer_id)
    assert sms["incident_id"] == str(offer.incident_id)

    [request] = gateway.requests_to(offer.contact_phone)
    assert request.authorization == f"Bearer {GATEWAY_TOKEN}"
    assert request.reference == sms["notification_id"]
    assert request.text.startswith("Jedel: паводок. Ваша роль: спасатель на воде. Путь ~12 мин.")
    link = answer_url("https://jedel.kz", offer, secret=notifier.settings.secret_key)
    assert request.text.endswith(f"{link} 1-да 2-нет"), "the signed link, then how to reply"
    assert str(offer.offer_id) not in request.text

    [entry] = await inbox(redis, inbox_prefix, offer.volunteer_id)
    assert entry["id"] == in_app["notification_id"]
    assert entry["text"] == request.text
    assert entry["headline"] == "Паводок: Костанай"
    assert entry["answer_url"] == link
    ttl_s = await redis.ttl(f"{inbox_prefix}{offer.volunteer_id}")
    assert 0 < ttl_s <= 7 * 24 * 3600

    pushed = await _next_message(live)
    assert json.loads(pushed["data"])["id"] == entry["id"]
    await live.aclose()

    row = await attempt_row(engine, offer, "sms")
    assert (row["status"], row["attempt"], row["kind"]) == ("sent", 1, "offer")
    assert row["provider_id"] == gateway.sent[request.reference]


async def test_the_same_offer_delivered_twice_sends_one_sms(
    notifier: NotifierService,
    tail: Tail,
    publish: Publisher,
    gateway: FakeSmsGateway,
    redis: Redis,
    inbox_prefix: str,
) -> None:
    offer = an_offer()
    await publish.event(offer, key=offer.incident_id)
    await publish.event(offer, key=offer.incident_id)
    # The offer's own lane keeps its events in order: once its stand-down is reported, both
    # copies of the offer have been handled.
    stand_down = stand_down_of(offer)
    await publish.event(stand_down, key=offer.incident_id)
    await report(tail, stand_down, "sms")
    await report(tail, stand_down, "in_app")

    offer_sms, stand_down_sms = gateway.requests_to(offer.contact_phone)
    assert "медик" in offer_sms.text and "медик" not in stand_down_sms.text
    assert len([r for r in tail.records if reports_of(offer)(r)]) == 2
    assert (
        len(await inbox(redis, inbox_prefix, offer.volunteer_id)) == 2
    )  # the offer once, and its stand-down


async def test_a_gateway_error_is_retried_and_the_sms_goes_out_once(
    notifier: NotifierService,
    tail: Tail,
    publish: Publisher,
    gateway: FakeSmsGateway,
    engine: AsyncEngine,
) -> None:
    offer = an_offer(language="kk")
    gateway.answer(offer.contact_phone, (500, {"error": "upstream busy"}), (200, {}))
    await publish.event(offer, key=offer.incident_id)

    sms = await report(tail, offer, "sms")
    assert (sms["status"], sms["attempt"]) == ("sent", 2)
    first, second = gateway.requests_to(offer.contact_phone)
    assert first.reference == second.reference == sms["notification_id"]
    assert first.text == second.text
    assert "Рөліңіз: медик" in first.text
    assert len([ref for ref in gateway.sent if ref == sms["notification_id"]]) == 1
    in_app = await report(tail, offer, "in_app")
    assert (in_app["status"], in_app["attempt"]) == ("delivered", 1)
    row = await attempt_row(engine, offer, "sms")
    assert (row["status"], row["attempt"]) == ("sent", 2)


async def test_a_gateway_refusal_is_reported_failed_and_the_consumer_moves_on(
    notifier: NotifierService,
    tail: Tail,
    publish: Publisher,
    gateway: FakeSmsGateway,
) -> None:
    refused = an_offer()
    gateway.answer(refused.contact_phone, (400, {"error": "not a mobile number"}))
    await publish.event(refused, key=refused.incident_id)
    following = an_offer(incident_id=refused.incident_id)
    await publish.event(following, key=refused.incident_id)

    sms = await report(tail, refused, "sms")
    assert (sms["status"], sms["attempt"]) == ("failed", 1)
    assert "not a mobile number" in sms["detail"]
    assert len(gateway.requests_to(refused.contact_phone)) == 1, "a 4xx is not retried"
    assert (await report(tail, refused, "in_app"))["status"] == "delivered"
    assert (await report(tail, following, "sms"))["status"] == "sent"


async def test_a_gateway_that_stays_down_is_given_up_after_bounded_attempts(
    notifier: NotifierService,
    tail: Tail,
    publish: Publisher,
    gateway: FakeSmsGateway,
    engine: AsyncEngine,
) -> None:
    offer = an_offer(language="en")
    gateway.answer(offer.contact_phone, *[(503, {"error": "maintenance"})] * 10)
    await publish.event(offer, key=offer.incident_id)

    sms = await report(tail, offer, "sms")
    assert (sms["status"], sms["attempt"]) == ("failed", MAX_SEND_ATTEMPTS)
    assert "given up after 3 attempts" in sms["detail"]
    assert len(gateway.requests_to(offer.contact_phone)) == MAX_SEND_ATTEMPTS
    assert (await report(tail, offer, "in_app"))["status"] == "delivered"
    row = await attempt_row(engine, offer, "sms")
    assert (row["status"], row["attempt"]) == ("failed", MAX_SEND_ATTEMPTS)


async def test_after_a_crash_between_send_and_record_the_resend_reuses_the_reference(
    notifier: NotifierService,
    tail: Tail,
    publish: Publisher,
    gateway: FakeSmsGateway,
    engine: AsyncEngine,
) -> None:
    offer = an_offer()
    [sms_notification] = plan_offer(
        offer,
        channels=("sms",),
        public_url=notifier.settings.notifier.public_url,
        link_secret=notifier.settings.secret_key,
    )
    # What a crash leaves: the claim committed, the SMS accepted by the gateway, nothing settled.
    async with notifier.sessionmaker() as session, session.begin():
        assert await AttemptRepository(session).claim(sms_notification) == 1
    before_crash = await notifier.channels["sms"].send(sms_notification)
    assert before_crash.status == "sent"

    await publish.event(offer, key=offer.incident_id)  # the redelivery

    sms = await report(tail, offer, "sms")
    assert (sms["status"], sms["attempt"]) == ("sent", 2)
    first, resent = gateway.requests_to(offer.contact_phone)
    assert first.reference == resent.reference == str(sms_notification.notification_id)
    assert gateway.sent[first.reference] == before_crash.provider_id, "the gateway sent it once"
    row = await attempt_row(engine, offer, "sms")
    assert row["provider_id"] == before_crash.provider_id


async def test_a_notification_that_keeps_crashing_its_sender_is_given_up(
    notifier: NotifierService,
    tail: Tail,
    publish: Publisher,
    gateway: FakeSmsGateway,
) -> None:
    offer = an_offer()
    [sms_notification] = plan_offer(
        offer,
        channels=("sms",),
        public_url=notifier.settings.notifier.public_url,
        link_secret=notifier.settings.secret_key,
    )
    async with notifier.sessionmaker() as session, session.begin():
        for _ in range(MAX_SEND_ATTEMPTS):
            await AttemptRepository(session).claim(sms_notification)

    await publish.event(offer, key=offer.incident_id)

    sms = await report(tail, offer, "sms")
    assert (sms["status"], sms["attempt"]) == ("failed", MAX_SEND_ATTEMPTS + 1)
    assert sms["detail"] == f"given up after {MAX_SEND_ATTEMPTS} attempts"
    assert gateway.requests_to(offer.contact_phone) == []


async def test_an_offer_that_expired_before_it_could_be_sent_is_not_sent(
    notifier: NotifierService, tail: Tail, publish: Publisher, gateway: FakeSmsGateway
) -> None:
    offer = an_offer(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    await publish.event(offer, key=offer.incident_id)
    sms = await report(tail, offer, "sms")
    assert (sms["status"], sms["detail"]) == ("failed", "expired before it could be sent")
    assert gateway.requests_to(offer.contact_phone) == []


async def test_malformed_messages_are_dead_lettered_and_the_next_offer_still_goes_out(
    notifier: NotifierService, tail: Tail, publish: Publisher
) -> None:
    incident_id = uuid4()
    broken = b'{"kind": "VolunteerOffered", "offer_id": '
    incomplete = json.dumps({"kind": "VolunteerOffered", "offer_id": str(uuid4())}).encode()
    sent = {
        await publish.raw(broken, key=incident_id, headers={"event_type": "VolunteerOffered"}): (
            broken,
            "malformed_event",
        ),
        await publish.raw(incomplete, key=incident_id, headers={}): (incomplete, "invalid_event"),
    }
    following = an_offer(incident_id=incident_id)
    await publish.event(following, key=incident_id)

    letters = await tail.wait_for(
        lambda r: (
            r.topic == topics.EVENTS_DEAD_LETTER
            and r.headers.get("dead_letter.source_topic") == topics.MOBILIZATION
            and (
                int(r.headers["dead_letter.source_partition"]),
                int(r.headers["dead_letter.source_offset"]),
            )
            in sent
        ),
        count=2,
    )
    for letter in letters:
        meta = DeadLetter.from_headers(letter.headers)
        original, code = sent[(meta.source_partition, meta.source_offset)]
        assert letter.value == original
        assert meta.code == code
        assert meta.reason
    assert (await report(tail, following, "sms"))["status"] == "sent"


async def test_other_kinds_are_passed_over(
    notifier: NotifierService, tail: Tail, publish: Publisher
) -> None:
    accepted = OfferAccepted(
        incident_id=uuid4(), offer_id=uuid4(), volunteer_id=uuid4(), role=Role.MEDIC, eta_s=60
    )
    await publish.event(accepted, key=accepted.incident_id)
    # In the same offer's lane, so handled after it: once the marker is reported, so is it.
    marker = an_offer(incident_id=accepted.incident_id, offer_id=accepted.offer_id)
    await publish.event(marker, key=accepted.incident_id)
    await report(tail, marker, "in_app")
    assert not [r for r in tail.records if reports_of(accepted)(r)]
    assert not [
        r
        for r in tail.records
        if r.topic == topics.EVENTS_DEAD_LETTER and r.key == str(accepted.incident_id).encode()
    ]


async def test_a_stand_down_reaches_the_volunteer_in_their_language(
    notifier: NotifierService,
    tail: Tail,
    publish: Publisher,
    gateway: FakeSmsGateway,
    redis: Redis,
    inbox_prefix: str,
) -> None:
    phone = a_phone()
    offer = an_offer(language="kk", contact_phone=phone)
    stand_down = stand_down_of(offer)
    await publish.event(offer, key=offer.incident_id)
    await publish.event(stand_down, key=offer.incident_id)

    assert (await report(tail, stand_down, "sms"))["status"] == "sent"
    assert (await report(tail, stand_down, "in_app"))["status"] == "delivered"
    offer_sms, stand_down_sms = gateway.requests_to(phone)
    assert offer_sms.text.startswith("Jedel: су тасқыны. Рөліңіз: медик.")
    assert stand_down_sms.text == "Jedel: топ жасақталды, рақмет — келудің қажеті жоқ."
    latest, first = await inbox(redis, inbox_prefix, offer.volunteer_id)
    assert (latest["kind"], latest["stand_down_reason"]) == ("stand_down", "group_complete")
    assert latest["text"] == stand_down_sms.text
    assert first["kind"] == "offer"


async def test_a_wave_s_offers_wait_for_a_slow_gateway_together_not_one_after_another(
    notifier: NotifierService, tail: Tail, publish: Publisher, gateway: FakeSmsGateway
) -> None:
    incident_id = uuid4()
    wave = [an_offer(incident_id=incident_id) for _ in range(8)]
    for offer in wave:
        gateway.slow(offer.contact_phone, 1.0)
    for offer in wave:  # one key: one partition, in this order
        await publish.event(offer, key=incident_id)

    for offer in wave:
        assert (await report(tail, offer, "sms"))["status"] == "sent"
    requests = [request for offer in wave for request in gateway.requests_to(offer.contact_phone)]
    assert len(requests) == len(wave)
    # Every SMS of the wave reached the gateway before it answered the first one: eight
    # volunteers called in about a second, not in eight.
    first_answer = min(request.answered_at or float("inf") for request in requests)
    assert max(request.received_at for request in requests) < first_answer


async def test_the_in_app_inbox_does_not_wait_for_a_slow_gateway(
    notifier: NotifierService,
    tail: Tail,
    publish: Publisher,
    gateway: FakeSmsGateway,
    redis: Redis,
    inbox_prefix: str,
) -> None:
    offer = an_offer()
    gateway.slow(offer.contact_phone, 1.5)  # under the notifier's 2 s timeout
    await publish.event(offer, key=offer.incident_id)

    assert (await report(tail, offer, "in_app"))["status"] == "delivered"
    [entry] = await inbox(redis, inbox_prefix, offer.volunteer_id)
    assert entry["kind"] == "offer"
    # The app had the offer while the gateway still held the SMS.
    [sms_request] = gateway.requests_to(offer.contact_phone)
    assert sms_request.answered_at is None
    assert (await report(tail, offer, "sms"))["status"] == "sent"


async def test_a_stand_down_waits_for_its_offer_however_slow_the_gateway(
    notifier: NotifierService, tail: Tail, publish: Publisher, gateway: FakeSmsGateway
) -> None:
    phone = a_phone()
    offer = an_offer(contact_phone=phone)
    stand_down = stand_down_of(offer)
    other = an_offer(incident_id=offer.incident_id)  # the same wave, behind the stand-down
    gateway.slow(phone, 1.0)
    for event in (offer, stand_down, other):
        await publish.event(event, key=offer.incident_id)

    assert (await report(tail, stand_down, "sms"))["status"] == "sent"
    offer_sms, stand_down_sms = gateway.requests_to(phone)
    assert "медик" in offer_sms.text
    assert offer_sms.answered_at is not None
    # The volunteer reads "stand down" after the offer, never before it.
    assert stand_down_sms.received_at >= offer_sms.answered_at
    # Another offer of the wave did not wait behind the slow one.
    [other_sms] = gateway.requests_to(other.contact_phone)
    assert other_sms.received_at < offer_sms.answered_at


async def test_a_stand_down_without_a_phone_goes_in_app_only(
    notifier: NotifierService,
    tail: Tail,
    publish: Publisher,
    redis: Redis,
    inbox_prefix: str,
    engine: AsyncEngine,
) -> None:
    stand_down = OfferStoodDown(
        incident_id=uuid4(),
        offer_id=uuid4(),
        volunteer_id=uuid4(),
        role=Role.SEARCHER,
        reason=StandDownReason.INCIDENT_CANCELLED,
        language="en",
    )
    await publish.event(stand_down, key=stand_down.incident_id)
    assert (await report(tail, stand_down, "in_app"))["status"] == "delivered"
    [entry] = await inbox(redis, inbox_prefix, stand_down.volunteer_id)
    assert entry["text"] == "Jedel: the call-out is cancelled, thank you - no need to come."
    async with engine.connect() as connection:
        channels = (
            await connection.scalars(
                text("SELECT channel FROM notification_attempts WHERE source_event_id = :id"),
                {"id": stand_down.event_id},
            )
        ).all()
    assert channels == ["in_app"]


async def test_while_the_gateway_is_down_later_offers_go_out_and_sms_waits_in_the_table(
    notifier: NotifierService,
    tail: Tail,
    publish: Publisher,
    gateway: FakeSmsGateway,
    engine: AsyncEngine,
) -> None:
    incident_id = uuid4()
    first = an_offer(incident_id=incident_id)
    # Closes before the circuit, opened after it was made, lets anything through again.
    closing = an_offer(incident_id=incident_id, expires_at=datetime.now(UTC) + timedelta(seconds=2))
    later = an_offer(incident_id=incident_id)
    gateway.down = True
    try:
        for offer in (first, closing):
            await publish.event(offer, key=incident_id)
        # Two failures in a row (the first two SMS): the circuit is open, the gateway left alone.
        await eventually(lambda: notifier.delivery.breakers["sms"].state is BreakerState.OPEN)
        await publish.event(later, key=incident_id)

        # The later offer goes out in-app while the first one's SMS still waits: not behind it.
        assert (await report(tail, later, "in_app", timeout_s=10))["status"] == "delivered"
        assert not [r for r in tail.records if reports_of(first, "sms")(r)]
        assert (await attempt_row(engine, first, "sms"))["status"] == "pending"
        waiting = await retry_row(engine, first, "sms")
        assert waiting is not None
        assert "503" in waiting["last_error"]
        assert (await report(tail, first, "in_app"))["status"] == "delivered"
    finally:
        gateway.down = False

    # The notifier learns it only when the cool-down is over; the short offer closes before.
    closed = await report(tail, closing, "sms")
    assert (closed["status"], closed["detail"]) == ("failed", EXPIRED)
    assert await retry_row(engine, closing, "sms") is None
    assert (await report(tail, closing, "in_app"))["status"] == "delivered"

    # After the cool-down a probe goes through, and what waited is sent, once.
    sms = await report(tail, first, "sms")
    assert sms["status"] == "sent"
    assert 2 <= sms["attempt"] <= MAX_SEND_ATTEMPTS
    tries = gateway.requests_to(first.contact_phone)
    assert {request.reference for request in tries} == {sms["notification_id"]}
    assert sms["notification_id"] in gateway.sent
    # The later one came while the circuit was open: not tried then, straight to the table.
    later_sms = await report(tail, later, "sms")
    assert (later_sms["status"], later_sms["attempt"]) == ("sent", 1)
    assert len(gateway.requests_to(later.contact_phone)) == 1
    assert str(notification_id(closing.event_id, "sms")) not in gateway.sent
    assert await retry_row(engine, first, "sms") is None
    assert (await attempt_row(engine, first, "sms"))["provider_id"] == gateway.sent[
        sms["notification_id"]
    ]
    await eventually(lambda: notifier.delivery.breakers["sms"].state is BreakerState.CLOSED)


async def test_an_offer_stood_down_while_its_sms_waits_is_not_sent(
    notifier: NotifierService,
    tail: Tail,
    publish: Publisher,
    gateway: FakeSmsGateway,
    engine: AsyncEngine,
) -> None:
    offer = an_offer(language="en")
    stand_down = stand_down_of(offer)
    gateway.down = True
    try:
        await publish.event(offer, key=offer.incident_id)
        await eventually(lambda: retry_row(engine, offer, "sms"))
        await publish.event(stand_down, key=offer.incident_id)
        withdrawn = await report(tail, offer, "sms")
        assert (withdrawn["status"], withdrawn["detail"]) == (
            "failed",
            "stood down before it could be sent",
        )
    finally:
        gateway.down = False

    assert (await report(tail, stand_down, "sms"))["status"] == "sent"
    assert str(notification_id(offer.event_id, "sms")) not in gateway.sent
    assert await retry_row(engine, offer, "sms") is None


async def _next_message(pubsub: Any, timeout_s: float = 10.0) -> dict[str, Any]:
    async def received() -> dict[str, Any] | None:
        message: dict[str, Any] | None = await pubsub.get_message(
            ignore_subscribe_messages=True, timeout=0.2
        )
        return message

    found = await eventually(received, timeout_s=timeout_s)
    assert isinstance(found, dict)
    return found


async def test_a_sign_in_code_asked_of_the_api_is_texted_by_the_notifier_and_signs_in(
    notifier: NotifierService,
    gateway: FakeSmsGateway,
    engine: AsyncEngine,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
) -> None:
    """The deployed path: the API hands the code to the notifier over auth.codes.v1 (nothing in
    the log), the gateway gets one SMS in the volunteer's language, and the code signs them in."""
    await seed_reference(engine)
    phone, volunteer_id = a_phone(), uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO volunteers (id, full_name, phone, birth_date, languages, region_code,"
                " home, transport_mode, availability) VALUES (:id, 'Coded Person', :phone,"
                " '1990-01-01', '{ru,kk}', 'KZ-39', ST_GeogFromText('POINT(63.6 53.2)'), 'car',"
                " 'available')"
            ),
            {"id": volunteer_id, "phone": phone},
        )
    settings = ApiSettings(
        environment="test",
        database=database_settings,
        kafka=kafka_settings,
        redis=redis_settings,
        auth=AuthOptions(log_codes=False),
    )
    async with api_client(settings) as http:
        asked = await http.post("/api/v1/auth/code", json={"phone": phone})
        assert asked.status_code == 202

        async def texted() -> list[GatewayRequest]:
            return gateway.requests_to(phone)

        texts = await eventually(texted)
        assert isinstance(texts, list)
        [sms] = texts
        assert isinstance(sms, GatewayRequest)
        assert sms.text.startswith("Jedel: код входа "), "in the volunteer's first language"
        code = sms.text.split("код входа ")[1][:6]
        signed = await http.post("/api/v1/auth/code/verify", json={"phone": phone, "code": code})
    assert signed.status_code == 200, signed.text
    assert signed.json()["volunteer_id"] == str(volunteer_id)


async def test_a_late_or_unreadable_sign_in_code_request_is_dropped_not_dead_lettered(
    notifier: NotifierService, gateway: FakeSmsGateway
) -> None:
    phone = a_phone()
    late = SignInCodeRequested(
        volunteer_id=uuid4(),
        phone=phone,
        code="123456",
        language="kk",
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    channels = notifier.delivery.channels
    assert not await text_code(late.model_dump_json().encode(), channels=channels, clock=utc_now)
    assert not await text_code(b"{not json", channels=channels, clock=utc_now)
    assert gateway.requests_to(phone) == []
