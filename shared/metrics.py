"""What operators see: every Prometheus metric Jedel exports, defined here and nowhere else, and the
small HTTP server a Kafka-consuming service answers `/metrics` and `/readyz` on.

Metrics are counted where decisions already flow, not in each service: the consumer
(`shared.consumer`, `services.registry.recorder`) settles every message, `shared.dead_letters`
writes every dead letter, the outbox relay (`shared.outbox`) publishes every event a service
decided (so waves, offers and notification reports are counted from the events themselves, once
they are committed), and the API's middleware sees every request.

Labels never carry personal data or unbounded values: topics, event types, codes, channels,
statuses, route templates (`/api/v1/offers/{offer_id}/accept`, never the id).

The status server is a few lines of asyncio rather than `prometheus_client.start_http_server`:
that one runs in a thread and cannot answer `/readyz`, whose checks (the database, the broker)
are coroutines of the service's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
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


# --- Kafka consumers: lag and readiness --------------------------------------------------------


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


class NotReadyError(Exception):
    """A readiness check's answer: what the service still waits for."""


Check = Callable[[], Awaitable[object]]


def broker_check(broker: Any, *, timeout_s: float) -> Check:
    async def check() -> None:
        if not await broker.ping(timeout=timeout_s):
            raise NotReadyError("the broker does not answer")

    return check


def partitions_check(broker: Any) -> Check:
    """Every subscriber has joined its group and holds at least one partition.

    A replica beyond a topic's partition count holds none and stays not ready: it would only wait.
    """

    async def check() -> None:
        waiting: list[str] = []
        for consumers in subscriber_consumers(broker):
            if not consumers:
                waiting.append("a subscriber that has not started")
            elif not any(consumer.assignment() for consumer in consumers):
                topics = sorted({topic for c in consumers for topic in c.subscription()})
                waiting.append(", ".join(topics) or "a subscriber")
        if waiting:
            raise NotReadyError(f"no partitions assigned yet: {'; '.join(waiting)}")

    return check


def database_check(engine: Any) -> Check:
    from sqlalchemy import text

    async def check() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return check


def redis_check(redis: Any) -> Check:
    async def check() -> None:
        await redis.ping()

    return check


async def readiness(
    checks: Mapping[str, Check], *, timeout_s: float
) -> tuple[bool, dict[str, Any]]:
    """Run the checks side by side; (ready, the body `/readyz` answers with)."""
    results: dict[str, str] = {}

    async def run(name: str, check: Check) -> None:
        try:
            async with asyncio.timeout(timeout_s):
                await check()
        except NotReadyError as waiting:
            results[name] = str(waiting)
        except TimeoutError:
            results[name] = f"no answer within {timeout_s:g}s"
        except Exception as error:  # what failed, never the error's text (it may hold a DSN)
            results[name] = f"unavailable ({type(error).__name__})"
        else:
            results[name] = "ok"

    await asyncio.gather(*(run(name, check) for name, check in checks.items()))
    ordered = {name: results[name] for name in checks}
    ready = all(result == "ok" for result in ordered.values())
    body: dict[str, Any] = {"ready": ready, "checks": ordered}
    if not ready:
        body["waiting_for"] = [name for name, result in ordered.items() if result != "ok"]
    return ready, body


# --- The status server of a Kafka-consuming service --------------------------------------------


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    content_type: str
    body: bytes


class StatusServer:
    """`GET /metrics` (Prometheus text), `GET /readyz` (200 or 503, JSON) and `GET /healthz`.

    Any other path is a 404 and any other method a 405; one request per connection.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        checks: Mapping[str, Check],
        before_scrape: Callable[[], Awaitable[None]] | None = None,
        timeout_s: float = 2.0,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self.host = host
        self.port = port
        self.checks = checks
        self.before_scrape = before_scrape
        self.timeout_s = timeout_s
        self.registry = registry
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]  # the real one when 0 was asked
        log.info("metrics and readiness on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def answer(self, method: str, path: str) -> _Answer:
        if path not in ("/metrics", "/readyz", "/healthz"):
            return _Answer(404, "Not Found", "text/plain; charset=utf-8", b"not found\n")
        if method not in ("GET", "HEAD"):
            return _Answer(405, "Method Not Allowed", "text/plain; charset=utf-8", b"GET only\n")
        if path == "/metrics":
            if self.before_scrape is not None:
                try:
                    await self.before_scrape()
                except Exception:
                    log.warning("measuring before a scrape failed", exc_info=True)
            return _Answer(200, "OK", CONTENT_TYPE_LATEST, generate_latest(self.registry))
        if path == "/healthz":
            return _Answer(200, "OK", "application/json", b'{"alive": true}')
        ready, body = await readiness(self.checks, timeout_s=self.timeout_s)
        return _Answer(
            200 if ready else 503,
            "OK" if ready else "Service Unavailable",
            "application/json",
            json.dumps(body).encode(),
        )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                request_line = (await reader.readline()).decode("latin-1")
                for _ in range(100):  # headers: read and ignored
                    if (await reader.readline()) in (b"\r\n", b"\n", b""):
                        break
                parts = request_line.split()
                if len(parts) != 3:
                    return
                method, target = parts[0], parts[1]
                answer = await self.answer(method, target.split("?", 1)[0])
                head = (
                    f"HTTP/1.1 {answer.status} {answer.reason}\r\n"
                    f"Content-Type: {answer.content_type}\r\n"
                    f"Content-Length: {len(answer.body)}\r\n"
                    "Cache-Control: no-store\r\n"
                    "Connection: close\r\n\r\n"
                )
                writer.write(head.encode() + (b"" if method == "HEAD" else answer.body))
                await writer.drain()
        except Exception:
            log.debug("status request failed", exc_info=True)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def start_status_server(
    settings: Any,
    *,
    checks: Mapping[str, Check],
    before_scrape: Callable[[], Awaitable[None]] | None = None,
) -> StatusServer | None:
    """The status server on `settings.metrics_port`, already listening; None when there is no
    port, or it is taken (the service runs all the same, unobserved, and says so)."""
    if settings.metrics_port is None:
        return None
    server = StatusServer(
        host=settings.metrics_host,
        port=settings.metrics_port,
        checks=checks,
        before_scrape=before_scrape,
        timeout_s=settings.readiness_timeout_s,
    )
    try:
        await server.start()
    except OSError as error:
        log.error(
            "cannot serve metrics on %s:%s (%s); running without", server.host, server.port, error
        )
        return None
    return server


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
