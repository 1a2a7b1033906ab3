"""What sign-in takes and answers."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.api.auth.principals import AccountRole

_NOT_DIGITS = re.compile(r"[\s\-.()]")


def normalise_phone(text: str) -> str | None:
    """E.164 for the ways people write Kazakhstan's numbers (`8 701 …`, `7701…`, `+7 (701) …`)
    and any international number; None if it is not a phone number."""
    raw = _NOT_DIGITS.sub("", text.strip())
    if len(raw) > 20:
        return None
    if raw.startswith("+"):
        digits = raw[1:]
    elif len(raw) == 11 and raw[0] in "78":
        digits = "7" + raw[1:]
    elif len(raw) == 10:
        digits = "7" + raw
    else:
        return None
    if not digits.isdigit() or not 8 <= len(digits) <= 15:
        return None
    return "+" + digits


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(max_length=32, description="The volunteer's phone, e.g. +7 701 123 45 67")


class CodeSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(max_length=32)
    code: str = Field(min_length=1, max_length=12, description="The six digits sent by SMS")


class PasswordSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(
        default=None, max_length=128, description="Apps; browsers send the cookie instead"
    )


class SignedIn(BaseModel):
    """A session: the access token (also set as an HttpOnly cookie) and what it allows."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth 2 scheme name
    expires_at: datetime = Field(description="When the access token stops working; refresh before")
    refresh_token: str = Field(description="Renews the access token until the session ends")
    session_expires_at: datetime
    csrf_token: str = Field(description="Send as X-CSRF-Token with cookie-borne changes")
    role: AccountRole
    regions: list[str]
    volunteer_id: UUID | None


class Me(BaseModel):
    account_id: UUID
    role: AccountRole
    regions: list[str]
    volunteer_id: UUID | None
    display_name: str


class Accepted(BaseModel):
    detail: str
