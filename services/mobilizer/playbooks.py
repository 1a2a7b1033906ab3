"""Playbooks: the group an incident needs, as reviewed data checked when the service starts.

`playbooks.yaml` holds the role definitions (which certificates and which transport make a
volunteer fit for a role) and, per incident type and priority, the group to build and how to build
it. `playbooks.schema.json` is the JSON Schema of that file, generated from the models below
(`python -m services.mobilizer.playbooks > services/mobilizer/playbooks.schema.json`); the same
models validate the file at load, so a broken file stops the service with the path of the fault.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from math import ceil
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.events.incidents import IncidentType, Priority
from shared.events.volunteers import CertificationType, Role, TransportMode

DEFAULT_PATH = Path(__file__).with_name("playbooks.yaml")
SCHEMA_PATH = Path(__file__).with_name("playbooks.schema.json")

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when built with it


class PlaybookError(ValueError):
    """The playbooks file cannot be used; the message names the file and the faulty entry."""


class RoleDefinition(BaseModel):
    """What makes a volunteer fit for a role."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = Field(min_length=1)
    certifications: tuple[CertificationType, ...] = Field(
        min_length=1, description="any one of these, valid on the incident's local day"
    )
    transport_modes: tuple[TransportMode, ...] | None = Field(
        default=None,
        description="the volunteer's own transport must be one of these; null accepts any",
    )
    adult_only: bool = Field(description="18 or older for this role, whatever the incident")


Count = Annotated[int, Field(ge=1, le=100)]


class Variant(BaseModel):
    """One priority's group and the way to build it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    roles: dict[Role, Count] = Field(
        min_length=1, description="places per role; the order is the order shown to dispatchers"
    )
    equipment: tuple[str, ...] = Field(description="what the group must bring")
    deadline_s: int = Field(gt=0, description="from the start of mobilisation to a full group")
    first_radius_m: int = Field(gt=0)
    max_radius_m: int = Field(gt=0, description="the largest radius, mutual aid included")
    radius_growth: float = Field(gt=1.0, le=10.0, description="radius × this when widening")
    offer_timeout_s: int = Field(gt=0, description="an unanswered offer lapses after this")
    target_fill_probability: float = Field(
        gt=0.0,
        lt=1.0,
        description="each role at least this likely to be filled by the deadline; the waves "
        "share it out over the rounds of asking left",
    )
    pacing_rounds: int = Field(
        ge=1,
        le=20,
        description="the time left is split into at most this many rounds of asking: fewer "
        "rounds ask more people at once (faster, more offers), more rounds wait for answers",
    )
    arrival_allowance_s: int = Field(
        ge=0,
        description="nobody is asked whose ETA would bring them later than the deadline plus this",
    )
    offer_budget_per_place: float = Field(
        gt=0.0,
        le=100.0,
        description="offers the incident may send in all, per place of the group (the "
        "dispatcher may raise the budget)",
    )
    first_wave_per_place: float = Field(
        default=3.0, gt=0.0, le=50.0, description="the first wave asks at most this per place"
    )
    first_wave_max: int = Field(
        default=30, ge=1, le=500, description="… and at most this many people in all"
    )
    max_offers_per_role_per_wave: int = Field(ge=1, le=500)
    urgent: bool = Field(description="life at risk now: quiet hours are not respected")
    adults_only: bool = Field(description="no volunteer under 18 in any role")

    @model_validator(mode="after")
    def _consistent(self) -> Variant:
        if self.first_radius_m > self.max_radius_m:
            raise ValueError(
                f"first_radius_m {self.first_radius_m} exceeds max_radius_m {self.max_radius_m}"
            )
        if self.offer_timeout_s >= self.deadline_s:
            raise ValueError(
                f"offer_timeout_s {self.offer_timeout_s} must be shorter than deadline_s "
                f"{self.deadline_s}"
            )
        return self


class IncidentPlaybook(BaseModel):
    """An incident type's variants, one per priority."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1)
    rationale: str = Field(min_length=1, description="why these numbers: the reviewer's notes")
    variants: dict[Priority, Variant] = Field(
        json_schema_extra={"required": [p.value for p in Priority]}
    )

    @model_validator(mode="after")
    def _every_priority(self) -> IncidentPlaybook:
        missing = [p.value for p in Priority if p not in self.variants]
        if missing:
            raise ValueError(f"no variant for priority {', '.join(missing)}")
        return self


class PlaybookFile(BaseModel):
    """The whole `playbooks.yaml`."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="Jedel mobilisation playbooks")

    version: Literal[1]
    roles: dict[Role, RoleDefinition] = Field(
        json_schema_extra={"required": [r.value for r in Role]}
    )
    playbooks: dict[IncidentType, IncidentPlaybook] = Field(
        json_schema_extra={"required": [t.value for t in IncidentType]}
    )

    @model_validator(mode="after")
    def _complete(self) -> PlaybookFile:
        missing_roles = [r.value for r in Role if r not in self.roles]
        if missing_roles:
            raise ValueError(f"roles: no definition for {', '.join(missing_roles)}")
        missing_types = [t.value for t in IncidentType if t not in self.playbooks]
        if missing_types:
            raise ValueError(f"playbooks: no playbook for {', '.join(missing_types)}")
        return self


@dataclass(frozen=True, slots=True)
class Playbook:
    """The group one incident needs and how to build it; `name` is e.g. `flood/critical`."""

    incident_type: IncidentType
    priority: Priority
    title: str
    roles: tuple[tuple[Role, int], ...]
    equipment: tuple[str, ...]
    deadline_s: int
    first_radius_m: int
    max_radius_m: int
    radius_growth: float
    offer_timeout_s: int
    target_fill_probability: float
    pacing_rounds: int
    arrival_allowance_s: int
    offer_budget_per_place: float
    first_wave_per_place: float
    first_wave_max: int
    max_offers_per_role_per_wave: int
    urgent: bool
    adults_only: bool

    @property
    def name(self) -> str:
        return f"{self.incident_type.value}/{self.priority.value}"

    def needed(self) -> dict[Role, int]:
        """Places per role, in the playbook's order."""
        return dict(self.roles)

    def offer_budget(self, places: int | None = None) -> int:
        """Offers an incident may send in all: `offer_budget_per_place` × its places (the
        playbook's, or `places` once the group was resized)."""
        total = sum(count for _, count in self.roles) if places is None else places
        return ceil(self.offer_budget_per_place * total)


@dataclass(frozen=True, slots=True)
class Playbooks:
    """Every playbook and the role definitions they share."""

    roles: Mapping[Role, RoleDefinition]
    table: Mapping[tuple[IncidentType, Priority], Playbook]

    def for_incident(self, incident_type: IncidentType, priority: Priority) -> Playbook:
        return self.table[(incident_type, priority)]


def load_playbooks(path: Path = DEFAULT_PATH) -> Playbooks:
    """Read and check the playbooks; raises `PlaybookError` naming the file and the fault."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506
    except OSError as error:
        raise PlaybookError(f"{path}: cannot read: {error}") from error
    except yaml.YAMLError as error:
        raise PlaybookError(f"{path}: not valid YAML: {error}") from error
    try:
        parsed = PlaybookFile.model_validate(raw)
    except ValidationError as error:
        raise PlaybookError(f"{path}: {_describe(error)}") from error
    return Playbooks(roles=dict(parsed.roles), table=_table(parsed))


def json_schema() -> dict[str, object]:
    """The JSON Schema shipped as `playbooks.schema.json`."""
    schema = PlaybookFile.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _table(parsed: PlaybookFile) -> dict[tuple[IncidentType, Priority], Playbook]:
    return {
        (incident_type, priority): Playbook(
            incident_type=incident_type,
            priority=priority,
            title=entry.title,
            roles=tuple(variant.roles.items()),
            equipment=variant.equipment,
            deadline_s=variant.deadline_s,
            first_radius_m=variant.first_radius_m,
            max_radius_m=variant.max_radius_m,
            radius_growth=variant.radius_growth,
            offer_timeout_s=variant.offer_timeout_s,
            target_fill_probability=variant.target_fill_probability,
            pacing_rounds=variant.pacing_rounds,
            arrival_allowance_s=variant.arrival_allowance_s,
            offer_budget_per_place=variant.offer_budget_per_place,
            first_wave_per_place=variant.first_wave_per_place,
            first_wave_max=variant.first_wave_max,
            max_offers_per_role_per_wave=variant.max_offers_per_role_per_wave,
            urgent=variant.urgent,
            adults_only=variant.adults_only,
        )
        for incident_type, entry in parsed.playbooks.items()
        for priority, variant in entry.variants.items()
    }


def _describe(error: ValidationError) -> str:
    faults = [
        f"{'.'.join(str(part) for part in fault['loc']) or '(top level)'}: {fault['msg']}"
        for fault in error.errors()
    ]
    return f"{len(faults)} fault(s): " + "; ".join(faults)


if __name__ == "__main__":
    sys.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")
