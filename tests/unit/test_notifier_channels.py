"""The SMS gateway adapter against a stand-in gateway on a local port: what it sends, and how it
reads each answer."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from aiohttp import web

from services.notifier.channels import (
    SMS,
    ChannelUnavailable,
    DeliveryResult,
    NotificationKind,
    OutgoingNotification,
    SmsGatewayChannel,
)
from shared.events.mobilization import DeliveryStatus
from shared.events.volunteers import Role
from tests.broker import free_port

NOW = datetime(2026, 4, 2, 7, 0, tzinfo=UTC)


def notification(phone: str | None = "+77011234567") -> OutgoingNotification:
    return OutgoingNotification(
        notification_id=uuid4(),
        channel=SMS,
        kind=NotificationKind.OFFER,
        source_event_id=uuid4(),
        incident_id=uuid4(),
        offer_id=uuid4(),
        volunteer_id=uuid4(),
        role=Role.MEDIC,
        language="kk",
        text="Jedel: су тасқыны. Рөліңіз: медик.",
        occurred_at=NOW,
        not_after=NOW + timedelta(minutes=10),
        phone=phone,
    )


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    authorization: str | None
    body: bytes


# An answer: (status, JSON body or text), or a number of seconds to keep the request waiting.
Answer = tuple[int, dict[str, Any] | str | None] | float


async def send_through(
    answer: Answer, outgoing: OutgoingNotification, *, timeout_s: float = 1.0
) -> tuple[object, list[Seen]]:
    """The notification through the channel to a stand-in gateway on a local port."""
    seen: list[Seen] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(
            Seen(
                request.method,
                request.path,
                request.headers.get("Authorization"),
                await request.read(),
            )
        )
        if isinstance(answer, float):
            await asyncio.sleep(answer)
            return web.json_response({"id": "too-late"})
        status, body = answer
        if isinstance(body, dict):
            return web.json_response(body, status=status)
        return web.Response(status=status, text=body)

    app = web.Application()
    app.router.add_post("/api/messages", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    channel = SmsGatewayChannel(
        f"http://127.0.0.1:{port}/api/", "secret-token", timeout_s=timeout_s
    )
    try:
        return await channel.send(outgoing), seen
    except ChannelUnavailable as error:
        return error, seen
    finally:
        await channel.close()
        await runner.cleanup()


async def test_a_2xx_answer_is_sent_with_the_providers_message_id() -> None:
    outgoing = notification()
    result, [request] = await send_through((202, {"id": "gw-42"}), outgoing)
    assert result == DeliveryResult(DeliveryStatus.SENT, provider_id="gw-42")
    assert (request.method, request.path) == ("POST", "/api/messages")
    assert request.authorization == "Bearer secret-token"
    assert json.loads(request.body) == {
        "to": "+77011234567",
        "text": "Jedel: су тасқыны. Рөліңіз: медик.",
        "reference": str(outgoing.notification_id),
    }


async def test_a_2xx_answer_without_a_body_is_still_sent() -> None:
    result, _ = await send_through((204, None), notification())
    assert result == DeliveryResult(DeliveryStatus.SENT)


async def test_a_4xx_answer_fails_with_the_gateways_reason_and_is_not_retried() -> None:
    result, seen = await send_through((400, {"error": "invalid number"}), notification())
    assert getattr(result, "status", None) is DeliveryStatus.FAILED
    assert "invalid number" in str(getattr(result, "detail", ""))
    assert len(seen) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
async def test_server_errors_and_throttling_are_transient(status: int) -> None:
    result, _ = await send_through((status, "busy"), notification())
    assert isinstance(result, ChannelUnavailable)
    assert isinstance(result, ConnectionError), "the shared consumer retries ConnectionErrors"
    assert str(status) in str(result)


async def test_a_gateway_that_does_not_answer_in_time_is_transient() -> None:
    result, seen = await send_through(1.0, notification(), timeout_s=0.2)
    assert isinstance(result, ChannelUnavailable)
    assert "timed out" in str(result)
    assert len(seen) == 1


async def test_a_gateway_that_is_not_there_is_transient() -> None:
    channel = SmsGatewayChannel(f"http://127.0.0.1:{free_port()}", "secret-token", timeout_s=1.0)
    try:
        with pytest.raises(ChannelUnavailable, match="unreachable"):
            await channel.send(notification())
    finally:
        await channel.close()


async def test_no_phone_number_fails_without_calling_the_gateway() -> None:
    result, seen = await send_through((200, {}), notification(phone=None))
    assert getattr(result, "status", None) is DeliveryStatus.FAILED
    assert seen == []
