"""The channel port, and the two channels Jedel ships: the in-app inbox and an SMS gateway over HTTP.

A channel takes one `OutgoingNotification` and answers with a `DeliveryResult`:
- `delivered` / `sent` / `failed`: the outcome is known and final for this attempt;
- raises `ChannelUnavailable` when it could not try now (gateway 5xx, 408, 429, timeout, Redis away):
  the notification waits in the retry table and is tried again with backoff, a bounded number of
  times, then reported `failed` (see `delivery.py`); a per-channel circuit breaker stops calling a
  channel that keeps failing.

In-app: the message JSON goes to the volunteer's inbox, a capped Redis list `jedel:inbox:<volunteer
id>` (newest first, last 100, kept 7 days after the latest entry), and is PUBLISHed on a channel of
the same name for a live app connection. Storing is atomic and idempotent (a Lua script): the same
entry (same notification id) is never stored twice.

SMS gateway contract (any provider is wrapped to look like this):

    POST {base_url}/messages
    Authorization: Bearer <token>
    Content-Type: application/json
    {"to": "+77011234567", "text": "…", "reference": "<notification id, a UUID>"}

    2xx  {"id": "<provider message id>"}   accepted for delivery           → `sent`
    4xx  {"error": "<reason>"}             refused for good (bad number,    → `failed`, not retried
                                           blocked, text too long)
    408, 429, 5xx, timeout, no connection  try again later                  → retried later, then `failed`

`reference` is an idempotency key: the gateway must not send a second SMS for a reference it has
already accepted, and answers the repeat with the first message's id. The notifier relies on it to
resend safely after a crash between the gateway's answer and recording it (see `delivery.py`).
Delivery receipts (`delivered` for SMS) are not part of this contract yet.

Texts are written to fit SMS (see `messages.py`): Cyrillic means UCS-2, 70 characters per single
segment, so offers take two segments, at most three.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Protocol
from uuid import UUID

import aiohttp
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.events.incidents import IncidentType
from shared.events.mobilization import DeliveryStatus, StandDownReason
from shared.events.volunteers import Role
from shared.i18n import Language

IN_APP: Final = "in_app"
SMS: Final = "sms"


class NotificationKind(StrEnum):
    OFFER = "offer"
    STAND_DOWN = "stand_down"


@dataclass(frozen=True, kw_only=True)
class OutgoingNotification:
    """One message to one volunteer through one channel, built from one mobilization event."""

    notification_id: UUID  # one per (source event, channel): the SMS reference, the inbox entry id
    channel: str
    kind: NotificationKind
    source_event_id: UUID
    incident_id: UUID
    offer_id: UUID
    volunteer_id: UUID
    role: Role
    language: Language
    text: str
    occurred_at: datetime
    not_after: datetime  # sent any later, it would only confuse: the offer has closed
    phone: str | None = None
    answer_url: str | None = None
    expires_at: datetime | None = None
    incident_type: IncidentType | None = None
    stand_down_reason: StandDownReason | None = None
    headline: str | None = None
    is_exercise: bool = False

    def inbox_entry(self) -> str:
        """The in-app message; deterministic, so a redelivered event yields the same bytes."""
        entry: dict[str, Any] = {
            "id": str(self.notification_id),
            "kind": self.kind.value,
            "incident_id": str(self.incident_id),
            "offer_id": str(self.offer_id),
            "role": self.role.value,
            "language": self.language,
            "text": self.text,
            "occurred_at": self.occurred_at.isoformat(),
            "answer_url": self.answer_url,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "incident_type": self.incident_type.value if self.incident_type else None,
            "stand_down_reason": self.stand_down_reason.value if self.stand_down_reason else None,
            "headline": self.headline,
            "is_exercise": self.is_exercise,
        }
        return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class DeliveryResult:
    status: DeliveryStatus
    detail: str | None = None
    provider_id: str | None = None


class ChannelUnavailable(ConnectionError):  # noqa: N818 - reads as a state, like ConnectionError
    """The channel cannot take the message right now; trying again later may work.

    The notifier catches it and schedules a retry from its table, so the message is committed and
    the partition moves on. It stays a `ConnectionError`, so any other caller that lets it reach the
    shared consumer still gets it treated as transient.
    """


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    async def send(self, notification: OutgoingNotification) -> DeliveryResult: ...


# Idempotent on the exact entry: LPOS finds a copy already stored (entries are deterministic).
_PUSH_TO_INBOX = """
if redis.call('LPOS', KEYS[1], ARGV[1]) then
    return 0
end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('PUBLISH', KEYS[1], ARGV[1])
return 1
"""


class InAppChannel:
    """The volunteer's inbox in Redis, plus a PUBLISH for an app that is connected right now."""

    name: Final = IN_APP

    def __init__(
        self,
        redis: Redis,
        *,
        key_prefix: str = "jedel:inbox:",
        keep: int = 100,
        ttl_s: int = 7 * 24 * 3600,
    ) -> None:
        self.key_prefix = key_prefix
        self.keep = keep
        self.ttl_s = ttl_s
        self._push = redis.register_script(_PUSH_TO_INBOX)

    def inbox_key(self, volunteer_id: UUID) -> str:
        return f"{self.key_prefix}{volunteer_id}"

    async def send(self, notification: OutgoingNotification) -> DeliveryResult:
        key = self.inbox_key(notification.volunteer_id)
        try:
            stored = await self._push(
                keys=[key], args=[notification.inbox_entry(), self.keep, self.ttl_s]
            )
        except (RedisConnectionError, RedisTimeoutError) as error:
            raise ChannelUnavailable(f"redis: {type(error).__name__}: {error}") from error
        detail = None if stored else "already in the inbox"
        return DeliveryResult(DeliveryStatus.DELIVERED, detail=detail)


RETRYABLE_CLIENT_ERRORS: Final = frozenset({408, 425, 429})


class SmsGatewayChannel:
    """SMS through an HTTP gateway (the contract is in this module's docstring), on aiohttp: a
    wave's SMS go out at once, and a request costs ~0.5 ms of CPU (httpx took ~4-5 ms here, its
    connection pool polling every idle connection for each request)."""

    name: Final = SMS

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/messages"
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session = session
        self._owns_session = session is None

    def _client(self) -> aiohttp.ClientSession:
        # Made on the first send: a session belongs to the event loop it was made in.
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, notification: OutgoingNotification) -> DeliveryResult:
        if not notification.phone:
            return DeliveryResult(DeliveryStatus.FAILED, detail="no phone number")
        return await self.send_text(
            phone=notification.phone,
            text=notification.text,
            reference=str(notification.notification_id),
        )

    async def send_text(self, *, phone: str, text: str, reference: str) -> DeliveryResult:
        """One SMS; `reference` makes a resend of the same message recognisable."""
        try:
            async with self._client().post(
                self.url,
                json={"to": phone, "text": text, "reference": reference},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=self.timeout,
            ) as response:
                status, body = response.status, await response.read()
                answer = _Answer(status, body, response.reason or "")
        except TimeoutError as error:
            raise ChannelUnavailable(f"gateway timed out after {self.timeout.total}s") from error
        except aiohttp.ClientError as error:
            raise ChannelUnavailable(f"gateway unreachable: {type(error).__name__}") from error
        if 200 <= status < 300:
            return DeliveryResult(DeliveryStatus.SENT, provider_id=answer.message_id())
        if status >= 500 or status in RETRYABLE_CLIENT_ERRORS:
            raise ChannelUnavailable(f"gateway answered {status}: {answer.reason()}")
        return DeliveryResult(
            DeliveryStatus.FAILED, detail=f"gateway refused ({status}): {answer.reason()}"
        )


@dataclass(frozen=True)
class _Answer:
    """What the gateway answered, read."""

    status: int
    body: bytes
    phrase: str

    def json(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def message_id(self) -> str | None:
        message_id = self.json().get("id")
        return str(message_id)[:200] if message_id is not None else None

    def reason(self) -> str:
        body = self.json()
        for field in ("error", "reason", "detail", "message"):
            if isinstance(body.get(field), str) and body[field]:
                return str(body[field])[:300]
        return self.body.decode(errors="replace")[:300] or self.phrase
