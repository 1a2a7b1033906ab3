"""The SMS gateway adapter against a fake transport: what it sends, and how it reads each answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest

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


async def send_through(
    answer: Callable[[httpx.Request], httpx.Response], outgoing: OutgoingNotification
) -> tuple[object, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        channel = SmsGatewayChannel(
            "http://gateway.test/api/", "secret-token", timeout_s=1.0, client=client
        )
        try:
            return await channel.send(outgoing), seen
        except ChannelUnavailable as error:
            return error, seen


async def test_a_2xx_answer_is_sent_with_the_providers_message_id() -> None:
    outgoing = notification()
    result, [request] = await send_through(
        lambda _: httpx.Response(202, json={"id": "gw-42"}), outgoing
    )
    assert result == DeliveryResult(DeliveryStatus.SENT, provider_id="gw-42")
    assert request.method == "POST"
    assert str(request.url) == "http://gateway.test/api/messages"
    assert request.headers["authorization"] == "Bearer secret-token"
    assert json.loads(request.content) == {
        "to": "+77011234567",
        "text": "Jedel: су тасқыны. Рөліңіз: медик.",
        "reference": str(outgoing.notification_id),
    }


async def test_a_2xx_answer_without_a_body_is_still_sent() -> None:
    result, _ = await send_through(lambda _: httpx.Response(204), notification())
    assert result == DeliveryResult(DeliveryStatus.SENT)


async def test_a_4xx_answer_fails_with_the_gateways_reason_and_is_not_retried() -> None:
    result, seen = await send_through(
        lambda _: httpx.Response(400, json={"error": "invalid number"}), notification()
    )
    assert getattr(result, "status", None) is DeliveryStatus.FAILED
    assert "invalid number" in str(getattr(result, "detail", ""))
    assert len(seen) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
async def test_server_errors_and_throttling_are_transient(status: int) -> None:
    result, _ = await send_through(lambda _: httpx.Response(status, text="busy"), notification())
    assert isinstance(result, ChannelUnavailable)
    assert isinstance(result, ConnectionError), "the shared consumer retries ConnectionErrors"
    assert str(status) in str(result)


@pytest.mark.parametrize(
    "error", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")], ids=["timeout", "down"]
)
async def test_timeouts_and_connection_errors_are_transient(error: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    result, _ = await send_through(fail, notification())
    assert isinstance(result, ChannelUnavailable)


async def test_no_phone_number_fails_without_calling_the_gateway() -> None:
    result, seen = await send_through(lambda _: httpx.Response(200), notification(phone=None))
    assert getattr(result, "status", None) is DeliveryStatus.FAILED
    assert seen == []
