"""What operators see: every Prometheus metric Jedel exports, defined here and nowhere else (the
server that answers `/metrics` and `/readyz` for a Kafka-consuming service is `shared.status`).

Metrics are counted where decisions already flow, not in each service: the consumer
(`shared.consumer`, `services.registry.recorder`) settles every message, `shared.dead_letters`
writes every dead letter, the outbox relay (`shared.outbox`) publishes every event a service
decided (so waves, offers and notification reports are counted from the events themselves, once
they are committed), and the API's middleware sees every request.

Labels never carry personal data or unbounded values: topics, event types, codes, channels,
statuses, route templates (`/api/v1/offers/{offer_id}/accept`, never the id).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import (
    Counter,
    Gauge,
    Histogram,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# Outcomes of one message in a consumer.
PROCESSED = "processed"  # done and committed
DEAD_LETTERED = "dead_lettered"  # refused (or given up on) and written to the dead-letter topic
FAILED = "failed"  # not settled this time: it is tried again

MESSAGES = Counter(
    "jedel_messages",
    "Kafka messages a consumer handled, per topic and outcome (processed, dead_lettered, failed: "
    "to be tried again)",
    ["service", "topic", "outcome"],
)
HANDLING_SECONDS = Histogram(
    "jedel_message_handling_seconds",
    "Time spent handling one Kafka message (each attempt), per topic",
    ["service", "topic"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DEAD_LETTERS = Counter(
    "jedel_dead_letters",
    "Messages written to a dead-letter topic, per source topic and rejection code",
    ["service", "source_topic", "code"],
)
CONSUMER_LAG = Gauge(
    "jedel_consumer_lag_messages",
    "Records on the partition not yet fetched by the service's consumer (highwater - position), "
    "measured when scraped",
    ["service", "topic", "partition"],
)
OUTBOX_PENDING = Gauge("jedel_outbox_pending_rows", "Outbox rows not yet published", ["outbox"])
OUTBOX_OLDEST_AGE = Gauge(
    "jedel_outbox_oldest_pending_age_seconds",
    "Age of the oldest outbox row not yet published (0 when none is pending)",
    ["outbox"],
)
EVENTS_PUBLISHED = Counter(
    "jedel_events_published",
    "Events the outbox relay published, per topic and event type",
    ["outbox", "topic", "event_type"],
)
WAVES_SENT = Counter("jedel_mobilizer_waves_sent", "Waves of offers the mobilizer sent")
OFFERS_MADE = Counter(
    "jedel_mobilizer_offers_made", "Offers the mobilizer made to volunteers, per role", ["role"]
)
NOTIFICATIONS = Counter(
    "jedel_notifications",
    "Notifications the notifier reported, per channel and delivery status",
    ["channel", "status"],
)
HTTP_REQUESTS = Counter(
    "jedel_http_requests",
    "HTTP requests the API answered, per route template, method and status",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "jedel_http_request_duration_seconds",
    "Time the API took to answer, per route template and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def _label(value: object, *, limit: int = 40) -> str:
    """A label value from data: a short string, so a strange payload cannot blow up the series."""
    return str(value)[:limit] if isinstance(value, str) and value else "unknown"


def count_message(service: str, topic: str, outcome: str, seconds: float | None = None) -> None:
    MESSAGES.labels(service, topic, outcome).inc()
    if seconds is not None:
        HANDLING_SECONDS.labels(service, topic).observe(seconds)


def count_messages(
    service: str, topic: str, outcome: str, count: int, *, seconds_each: float
) -> None:
    """`count_message` for `count` messages of a batch, each taking `seconds_each` (the labels
    looked up once: per message, they were a tenth of the tracker's time)."""
    MESSAGES.labels(service, topic, outcome).inc(count)
    handling = HANDLING_SECONDS.labels(service, topic)
    for _ in range(count):
        handling.observe(seconds_each)


def count_dead_letter(service: str, source_topic: str, code: str) -> None:
    DEAD_LETTERS.labels(service, source_topic, _label(code, limit=60)).inc()


def count_published(outbox: str, topic: str, headers: Mapping[str, str], payload: bytes) -> None:
    """One event the relay published; the decisions operators follow are counted by kind."""
    event_type = _label(headers.get("event_type"), limit=60)
    EVENTS_PUBLISHED.labels(outbox, topic, event_type).inc()
    if event_type == "WaveSent":
        WAVES_SENT.inc()
    elif event_type in ("VolunteerOffered", "NotificationReported"):
        try:
            event = json.loads(payload)
        except ValueError:
            return
        if not isinstance(event, dict):
            return
        if event_type == "VolunteerOffered":
            OFFERS_MADE.labels(_label(event.get("role"))).inc()
        else:
            NOTIFICATIONS.labels(_label(event.get("channel")), _label(event.get("status"))).inc()


def set_outbox_depth(outbox: str, *, pending: int, oldest_age_s: float | None) -> None:
    OUTBOX_PENDING.labels(outbox).set(pending)
    OUTBOX_OLDEST_AGE.labels(outbox).set(max(oldest_age_s or 0.0, 0.0))


# --- Kafka consumers: lag --------------------------------------------------------------


def subscriber_consumers(broker: Any) -> list[list[Any]]:
    """The aiokafka consumers of each of the broker's subscribers (empty before it starts)."""
    found: list[list[Any]] = []
    for subscriber in broker.subscribers:
        group = getattr(subscriber, "consumer_subgroup", None) or [
            getattr(subscriber, "consumer", None)
        ]
        found.append([consumer for consumer in group if consumer is not None])
    return found


_lag_series: dict[str, set[tuple[str, str]]] = {}


async def measure_lag(service: str, broker: Any) -> None:
    """Set the lag gauge of every partition the service's consumers hold; forget revoked ones.

    The highwater is what the last fetch learned and the position is the consumer's own: no
    request to the broker is made. A partition not fetched yet has no highwater and is skipped.
    """
    seen: set[tuple[str, str]] = set()
    for consumers in subscriber_consumers(broker):
        for consumer in consumers:
            for partition in consumer.assignment():
                highwater = consumer.highwater(partition)
                if highwater is None:
                    continue
                try:
                    position = await asyncio.wait_for(consumer.position(partition), 1.0)
                except Exception as error:  # revoked meanwhile, or no position yet
                    log.debug("no position for %s: %r", partition, error)
                    continue
                labels = (partition.topic, str(partition.partition))
                CONSUMER_LAG.labels(service, *labels).set(max(highwater - position, 0))
                seen.add(labels)
    for labels in _lag_series.get(service, set()) - seen:
        with contextlib.suppress(KeyError):
            CONSUMER_LAG.remove(service, *labels)
    _lag_series[service] = seen


# --- The API: requests per route template ------------------------------------------------------

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The route a request matched, as declared (`/api/v1/incidents/{incident_id}`), never its
    values; a mounted app is `<mount>/{path}`; "unmatched" for a path nothing serves."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if scope.get("endpoint") is not None:  # a mount (the static files)
        return f"{scope.get('root_path', '')}/{{path}}"
    return "unmatched"


class HttpMetrics:
    """ASGI middleware: counts every HTTP request by route template, method and status, and times it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless the application answers otherwise

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            method = scope.get("method", "GET")
            method = method if method in _METHODS else "OTHER"
            route = route_template(scope)
            HTTP_REQUESTS.labels(route, method, str(status)).inc()
            HTTP_SECONDS.labels(route, method).observe(time.perf_counter() - started)
