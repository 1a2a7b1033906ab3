"""A CAP alert as read: frozen values, geometry in lon/lat, every datetime carrying its offset.

Text fields keep the CAP words (`"Actual"`, `"Severe"`, `"Immediate"`); the schema has already
checked them, and deciding what they mean for Jedel is `classify.py`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shapely.geometry import MultiPolygon

CapVersion = Literal["1.1", "1.2"]


@dataclass(frozen=True)
class CapReference:
    """One earlier message this one updates or cancels (`sender,identifier,sent`)."""

    sender: str
    identifier: str
    sent: datetime

    @property
    def key(self) -> tuple[str, str, datetime]:
        return (self.sender, self.identifier, self.sent)


@dataclass(frozen=True)
class CapArea:
    """One `<area>`: its polygons and circles merged, plus its geocodes as (valueName, value)."""

    description: str
    geometry: MultiPolygon | None
    geocodes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CapInfo:
    """One `<info>` block: the alert told in one language."""

    language: str
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    event_codes: tuple[tuple[str, str], ...]
    headline: str | None
    description: str | None
    instruction: str | None
    sender_name: str | None
    web: str | None
    contact: str | None
    effective: datetime | None
    onset: datetime | None
    expires: datetime | None
    areas: tuple[CapArea, ...]


@dataclass(frozen=True)
class CapAlert:
    """A whole CAP message; `key` identifies it, and what other messages' references point at."""

    version: CapVersion
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    source: str | None
    note: str | None
    references: tuple[CapReference, ...]
    incidents: tuple[str, ...]
    infos: tuple[CapInfo, ...]

    @property
    def key(self) -> tuple[str, str, datetime]:
        return (self.sender, self.identifier, self.sent)
