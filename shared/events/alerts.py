"""Contracts of the alert topics: the police's missing-person report and the intake's dead letters."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

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


class SearchOutcome(StrEnum):
    """How a search ended; a report carrying one closes the incident and stands everyone down."""

    FOUND_ALIVE = "found_alive"
    FOUND_DECEASED = "found_deceased"
    WITHDRAWN = "withdrawn"  # the report was withdrawn: the person came home, a false report…


class LastSeen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    latitude: float = Field(ge=40.0, le=56.0, description="WGS 84; Kazakhstan lies within 40–56 °N")
    longitude: float = Field(
        ge=46.0, le=88.0, description="WGS 84; Kazakhstan lies within 46–88 °E"
    )
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
    `reported_at` updates it, and one with an `outcome` ends the search.
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
        default=None,
        gt=0,
        le=100,
        description="Initial search radius; derived from the category when absent",
    )
    language: str = Field(default="ru", pattern="^(kk|ru|en)$")
    is_exercise: bool = False
    outcome: SearchOutcome | None = Field(
        default=None,
        description=(
            "Set by a later report with the same report_id when the search ends: the incident "
            "is closed and every volunteer still asked or on the way is stood down"
        ),
    )


class RefusalStatus(StrEnum):
    """Where a refused alert stands in the dispatchers' queue (`refused_alerts`)."""

    OPEN = "open"  # nobody has seen to it yet
    RESUBMITTED = "resubmitted"  # a dispatcher sent a corrected message through the intake again
    DISMISSED = "dismissed"  # a dispatcher judged there was nothing to do (a test, a duplicate)


class DeadLetter(BaseModel):
    """Why a message was refused and where it came from.

    A dead letter's value is the original message, byte for byte; these fields travel in its
    headers (`dead_letter.*`), the convention Kafka tooling already understands.
    """

    model_config = ConfigDict(frozen=True)

    event_id: UUID = Field(default_factory=uuid4)
    code: str
    reason: str
    source_topic: str
    source_partition: int
    source_offset: int
    received_at: datetime
    # Known when the message was read far enough (a refused alert's sender and the regions its
    # area touches): they route it to the dispatchers who can act on it. Empty when unknown.
    sender: str = ""
    regions: str = Field(default="", description="ISO 3166-2 codes, comma-separated")

    HEADER_PREFIX: ClassVar[str] = "dead_letter."

    def to_headers(self) -> dict[str, str]:
        return {f"{self.HEADER_PREFIX}{name}": str(value) for name, value in self}

    @classmethod
    def from_headers(cls, headers: Mapping[str, str | bytes]) -> DeadLetter:
        fields = {
            name.removeprefix(cls.HEADER_PREFIX): value.decode()
            if isinstance(value, bytes)
            else value
            for name, value in headers.items()
            if name.startswith(cls.HEADER_PREFIX)
        }
        return cls.model_validate(fields)
