"""How a sign-in code reaches the volunteer's phone.

`TextedCodes` (a deployment, `JEDEL_AUTH__LOG_CODES=false`) publishes `SignInCodeRequested` on
`auth.codes.v1` and the notifier texts it through the SMS gateway. `LoggedCodes` (development and
tests) writes it to the API's log instead; production refuses to start with it (`ApiSettings`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.api.publisher import EventPublisher
from shared.events import topics
from shared.events.sign_in import SignInCodeRequested

log = logging.getLogger("services.api.sign_in_codes")


class CodeSender(Protocol):
    async def send(
        self, *, phone: str, code: str, volunteer_id: UUID, language: str, expires_at: datetime
    ) -> None: ...


class LoggedCodes:
    """Development: the code in the log (the phone itself is masked there, as everywhere)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (phone, code), newest last: what tests read

    async def send(
        self, *, phone: str, code: str, volunteer_id: UUID, language: str, expires_at: datetime
    ) -> None:
        self.sent.append((phone, code))
        del self.sent[:-100]
        log.warning("sign-in code for volunteer %s: %s", volunteer_id, code)


class TextedCodes:
    """A deployment: the notifier texts the code (`BrokerUnavailable` if it cannot be handed on)."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher

    async def send(
        self, *, phone: str, code: str, volunteer_id: UUID, language: str, expires_at: datetime
    ) -> None:
        request = SignInCodeRequested(
            volunteer_id=volunteer_id,
            phone=phone,
            code=code,
            language=language,
            expires_at=expires_at,
        )
        await self.publisher.publish(topics.SIGN_IN_CODES, key=volunteer_id, event=request)
