"""Readiness and the status server: what a service still waits for (`/readyz`), and the small HTTP
server a Kafka-consuming service answers `/metrics`, `/readyz` and `/healthz` on.

The server is a few lines of asyncio rather than `prometheus_client.start_http_server`: that one
runs in a thread and cannot answer `/readyz`, whose checks (the database, the broker) are
coroutines of the service's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from shared.metrics import subscriber_consumers

log = logging.getLogger(__name__)


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
