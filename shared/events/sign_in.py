"""A volunteer asked to sign in: the code for the notifier to text (`auth.codes.v1`, keyed by
volunteer id). Only the API writes it and only the notifier reads it (shared.broker_access); the
notifier keeps no copy and a dead letter of it is never written."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.events.base import Event


class SignInCodeRequested(Event):
    kind: Literal["SignInCodeRequested"] = "SignInCodeRequested"
    volunteer_id: UUID
    phone: str = Field(description="E.164", max_length=16)
    code: str = Field(pattern=r"^[0-9]{6}$")
    language: str = Field(description="kk, ru or en: the volunteer's first language")
    expires_at: AwareDatetime
