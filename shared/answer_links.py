"""The token in an SMS call-out's answer link: short-lived, signed, bound to the volunteer and the
offer — so the link answers that one offer for that one person, and the offer id, which travels in
events and logs, is no credential.

`{public_url}/r/{token}`: 40 URL-safe characters, the offer id (16 bytes), the minute it stops
working (4 bytes) and an HMAC-SHA256 over both and the volunteer's id, cut to 10 bytes. The
volunteer's id is not in the token: the API reads it from the offer and checks the signature with
it. The notifier signs; the API verifies; both with the deployment's `secret_key`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

_MAC_BYTES = 10
TOKEN_CHARS = 40  # base64 of 16 + 4 + 10 bytes, no padding
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{40}")
# An answer link outlives the offer a little: a late tap still gets "this offer has closed".
GRACE = timedelta(hours=12)


class InvalidLink(ValueError):  # noqa: N818 - a refusal, not a failure
    """A token that is malformed, forged, for another volunteer, or expired."""


@dataclass(frozen=True)
class LinkClaim:
    """What an unverified token names: which offer, and until when it would work."""

    offer_id: UUID
    not_after: datetime
    mac: bytes


def _mac(secret: str, offer_id: UUID, volunteer_id: UUID, minute: int) -> bytes:
    message = offer_id.bytes + minute.to_bytes(4, "big") + volunteer_id.bytes
    return hmac.new(secret.encode(), b"answer-link\x00" + message, hashlib.sha256).digest()[
        :_MAC_BYTES
    ]


def sign(secret: str, *, offer_id: UUID, volunteer_id: UUID, offer_expires_at: datetime) -> str:
    """The token for one offer's answer link; it works until the offer expires plus `GRACE`."""
    minute = int((offer_expires_at + GRACE).timestamp() // 60) + 1
    raw = offer_id.bytes + minute.to_bytes(4, "big") + _mac(secret, offer_id, volunteer_id, minute)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read(token: str) -> LinkClaim:
    """The offer a token names, not yet verified (the volunteer is needed for that)."""
    if not TOKEN_PATTERN.fullmatch(token):
        raise InvalidLink("not an answer link")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidLink("not an answer link") from None
    minute = int.from_bytes(raw[16:20], "big")
    return LinkClaim(
        offer_id=UUID(bytes=raw[:16]),
        not_after=datetime.fromtimestamp(minute * 60, UTC),
        mac=raw[20:],
    )


def verify(secret: str, claim: LinkClaim, *, volunteer_id: UUID, now: datetime) -> None:
    """Raise `InvalidLink` unless the token was signed for this volunteer and has not expired."""
    minute = int(claim.not_after.timestamp() // 60)
    expected = _mac(secret, claim.offer_id, volunteer_id, minute)
    if not hmac.compare_digest(expected, claim.mac):
        raise InvalidLink("the link's signature does not match")
    if now >= claim.not_after:
        raise InvalidLink("the link has expired")
