"""Contracts of the alert topics: the police's missing-person report and the intake's dead letters."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from shared.events.base import Event

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]


class SubjectCategory(StrEnum):
    """Lost-person categories; search planning (distance rings) keys on them."""

    CHILD = "child"
    ADULT = "adult"
    ELDERLY = "elderly"
    DEMENTIA = "dementia"
    DESPONDENT = "despondent"
    HIKER = "hiker"
    HUNTER = "hunter"
    OTHER = "other"


class LastSeen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    latitude: float = Field(ge=40.0, le=56.0, description="WGS 84; Kazakhstan lies within 40–56 °N")
    longitude: float = Field(ge=46.0, le=88.0, description="WGS 84; Kazakhstan lies within 46–88 °E")
    at: AwareDatetime = Field(description="When the person was last seen, with an offset")
    place: NonEmpty | None = Field(default=None, description="Where, in words")


class MissingPerson(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    full_name: NonEmpty
    age_years: int = Field(ge=0, le=120)
    sex: str | None = Field(default=None, pattern="^(female|male|unknown)$")
    category: SubjectCategory
    description: NonEmpty | None = Field(default=None, description="Height, build, clothing")
    medical_needs: NonEmpty | None = None


class MissingPersonReported(BaseModel):
    """A police unit reports a missing person (`alerts.missing_person.v1`, JSON, keyed by report_id).

    The same `report_id` twice is one incident; a later report with the same id and a newer
    `reported_at` updates it.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={"$id": "https://jedel.kz/schemas/alerts.missing_person.v1.json"},
    )

    report_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{3,64}$")]
    reported_at: AwareDatetime
    reporting_unit: NonEmpty = Field(description="The police unit that filed the report")
    contact_phone: Phone | None = Field(default=None, description="E.164")
    person: MissingPerson
    last_seen: LastSeen
    search_radius_km: float | None = Field(
        default=None, gt=0, le=100, description="Initial search radius; derived from the category when absent"
    )
    language: str = Field(default="ru", pattern="^(kk|ru|en)$")
    is_exercise: bool = False


class DeadLetter(Event):
    """A message the intake could not turn into an incident, with why and where it came from."""

    source_topic: str
    source_partition: int
    source_offset: int
    source_key: str | None
    code: str
    reason: str
    original_size_bytes: int
    received_at: datetime
