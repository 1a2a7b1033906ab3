"""Contracts of `incidents.v1`: what the intake says about incidents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from shared.events.base import Event


class IncidentType(StrEnum):
    FLOOD = "flood"
    WILDFIRE = "wildfire"
    BLIZZARD = "blizzard"
    MUDFLOW = "mudflow"
    EARTHQUAKE = "earthquake"
    BUILDING_COLLAPSE = "building_collapse"
    MISSING_PERSON = "missing_person"
    OTHER = "other"


class Priority(StrEnum):
    """How fast a group must be on its way; `critical` first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class IncidentStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class AlertStatus(StrEnum):
    """CAP `<status>`; anything but `Actual` never mobilises anyone for real."""

    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    SYSTEM = "System"
    TEST = "Test"
    DRAFT = "Draft"
