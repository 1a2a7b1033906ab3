"""Access tokens: short-lived JWTs (HS256, PyJWT) naming the account, its role, its regions and the
session they belong to; the CSRF token of a cookie session; refresh secrets.

A token is only as good as its session: `services.api.auth.sessions` checks the session has not
been revoked before a request is served.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import jwt

from services.api.auth.principals import AccountRole, Principal

ALGORITHM = "HS256"
AUDIENCE = "jedel-api"


class InvalidToken(ValueError):  # noqa: N818 - a refusal, not a failure
    """A token that is malformed, forged, expired or of the wrong kind."""


def issue_access(principal: Principal, *, secret: str, now: datetime, lifetime: timedelta) -> str:
    claims: dict[str, Any] = {
        "sub": str(principal.account_id),
        "sid": str(principal.session_id),
        "role": principal.role.value,
        "reg": sorted(principal.regions),
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    if principal.volunteer_id is not None:
        claims["vid"] = str(principal.volunteer_id)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_access(token: str, *, secret: str, now: datetime) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            # `exp` is checked against the app's clock below, not PyJWT's, so tests can move it.
            options={
                "require": ["sub", "sid", "role", "exp", "iat"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
        if int(claims["exp"]) <= int(now.timestamp()):
            raise InvalidToken("the token has expired")
        vid = claims.get("vid")
        return Principal(
            account_id=UUID(claims["sub"]),
            session_id=UUID(claims["sid"]),
            role=AccountRole(claims["role"]),
            regions=frozenset(str(code) for code in claims.get("reg", [])),
            volunteer_id=UUID(vid) if vid else None,
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as error:
        raise InvalidToken(f"not a valid token ({type(error).__name__})") from None


def csrf_token(session_id: UUID, *, secret: str) -> str:
    """The CSRF token of a cookie session: derived from the session, so nothing stores it."""
    return hmac.new(secret.encode(), b"csrf\x00" + session_id.bytes, hashlib.sha256).hexdigest()


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def refresh_hash(refresh_secret: str) -> str:
    """What the database keeps of a refresh secret (a 256-bit random value needs no slow hash)."""
    return hashlib.sha256(refresh_secret.encode()).hexdigest()
