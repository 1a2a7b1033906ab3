"""Texting a volunteer their one-time sign-in code (`auth.codes.v1`).

The code is sent by SMS only, kept nowhere, and never dead-lettered (a dead letter keeps the
original bytes). A request read after its code expired is dropped: the volunteer asks again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final
from uuid import NAMESPACE_URL, uuid5

from pydantic import ValidationError

from services.notifier.channels import SMS, Channel, ChannelUnavailable, SmsGatewayChannel
from shared.events.mobilization import DeliveryStatus
from shared.events.sign_in import SignInCodeRequested
from shared.i18n import normalize_language

log = logging.getLogger(__name__)

# GSM-7 for English; one UCS-2 segment (≤ 70 characters) for Kazakh and Russian.
CODE_TEXT: Final = {
    "kk": "Jedel: кіру коды {code}. Оны ешкімге айтпаңыз.",
    "ru": "Jedel: код входа {code}. Никому его не сообщайте.",
    "en": "Jedel: your sign-in code is {code}. Do not share it.",
}
TRIES: Final = 3


def code_text(request: SignInCodeRequested) -> str:
    return CODE_TEXT[normalize_language(request.language)].format(code=request.code)


def decode_request(data: bytes) -> SignInCodeRequested | None:
    try:
        return SignInCodeRequested.model_validate_json(data)
    except ValidationError:
        return None


async def text_code(
    data: bytes,
    *,
    channels: Mapping[str, Channel],
    clock: Callable[[], datetime],
    backoff_s: float = 1.0,
) -> bool:
    """Send the code in `data` by SMS; whether it went. Never raises for a bad or late request."""
    request = decode_request(data)
    if request is None:
        log.warning("a sign-in code request that is not one was dropped")
        return False
    if request.expires_at <= clock():
        log.info(
            "sign-in code for volunteer %s expired before it could be sent", request.volunteer_id
        )
        return False
    sms = channels.get(SMS)
    if not isinstance(sms, SmsGatewayChannel):
        log.warning(
            "no SMS channel: the sign-in code for volunteer %s was not sent", request.volunteer_id
        )
        return False
    reference = str(uuid5(NAMESPACE_URL, f"jedel:sign-in:{request.event_id}"))
    for attempt in range(1, TRIES + 1):
        try:
            result = await sms.send_text(
                phone=request.phone, text=code_text(request), reference=reference
            )
        except ChannelUnavailable as error:
            log.warning("sign-in code not sent (try %d of %d): %s", attempt, TRIES, error)
            await asyncio.sleep(backoff_s * attempt)
            continue
        return result.status is DeliveryStatus.SENT
    return False
