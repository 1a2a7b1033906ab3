"""The reports' SQL: what is counted, per region, over a period (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    DateTime,
    Select,
    String,
    Uuid,
    case,
    cast,
    column,
    distinct,
    exists,
    false,
    func,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import aliased

from services.registry.corrections import VOIDED
from services.registry.entries import kind_of
from services.registry.reports.values import Period
from services.registry.tables import ActivityLogRow, RegistryIncidentRow
from shared.events.incidents import IncidentOpened
from shared.events.mobilization import (
    GroupCompleted,
    GroupUnderstaffed,
    OfferAccepted,
    OfferDeclined,
    OfferStoodDown,
    OfferTimedOut,
    VolunteerOffered,
)

# The API owns volunteers; the registry only counts them, so it names just what it reads.
_VOLUNTEERS = table(
    "volunteers",
    column("id", Uuid),
    column("region_code", String),
    column("registered_at", DateTime(timezone=True)),
)


def counts_query(
    period: Period, *, region_codes: Sequence[str] | None = None, include_exercises: bool = False
) -> Select[Any]:
    """Offers, groups and incidents per region (`RegionCounts` columns)."""
    counted = (
        IncidentOpened,
        VolunteerOffered,
        OfferDeclined,
        OfferTimedOut,
        OfferStoodDown,
        GroupCompleted,
        GroupUnderstaffed,
    )
    # Naming the kinds lets the (kind, occurred_at) index find the period's rows.
    entries = (
        _entries(period, include_exercises=include_exercises)
        .where(ActivityLogRow.kind.in_([kind_of(contract) for contract in counted]))
        .subquery()
    )

    def events(contract: type[Any]) -> Any:
        return func.count().filter(entries.c.kind == kind_of(contract))

    def incidents(contract: type[Any]) -> Any:
        return func.count(distinct(entries.c.incident_id)).filter(
            entries.c.kind == kind_of(contract)
        )

    query = select(
        entries.c.region_code,
        incidents(IncidentOpened).label("incidents_opened"),
        events(VolunteerOffered).label("offers_sent"),
        events(OfferDeclined).label("offers_declined"),
        events(OfferTimedOut).label("offers_timed_out"),
        events(OfferStoodDown).label("offers_stood_down"),
        incidents(GroupCompleted).label("groups_completed"),
        incidents(GroupUnderstaffed).label("groups_understaffed"),
    ).group_by(entries.c.region_code)
    if region_codes is not None:
        query = query.where(entries.c.region_code.in_(region_codes))
    return query


def deployments_query(
    period: Period, *, region_codes: Sequence[str] | None = None, include_exercises: bool = False
) -> Select[Any]:
    """One row per accepted offer (`Deployment` columns), with the first recorded end."""
    end = aliased(ActivityLogRow)
    released_at = (
        select(func.min(end.occurred_at))
        .where(
            end.incident_id == ActivityLogRow.incident_id,
            end.offer_id == ActivityLogRow.offer_id,
            end.kind.in_((kind_of(OfferStoodDown), kind_of(OfferDeclined))),
            end.occurred_at >= ActivityLogRow.occurred_at,
            _not_voided(end),
        )
        .scalar_subquery()
    )
    closed_at = case(
        (
            RegistryIncidentRow.closed_at >= ActivityLogRow.occurred_at,
            RegistryIncidentRow.closed_at,
        )
    )
    region = _region()
    query = (
        _entries(period, include_exercises=include_exercises)
        .with_only_columns(
            region.label("region_code"),
            RegistryIncidentRow.type.label("incident_type"),
            ActivityLogRow.volunteer_id,
            ActivityLogRow.occurred_at.label("accepted_at"),
            func.least(released_at, closed_at).label("ended_at"),
            maintain_column_froms=True,
        )
        .where(ActivityLogRow.kind == kind_of(OfferAccepted))
        .where(ActivityLogRow.volunteer_id.is_not(None))
        .ext(distinct_on(ActivityLogRow.offer_id))
        .order_by(ActivityLogRow.offer_id, ActivityLogRow.occurred_at)
    )
    if region_codes is not None:
        query = query.where(region.in_(region_codes))
    return query


def registrations_query(
    period: Period, *, region_codes: Sequence[str] | None = None, include_exercises: bool = False
) -> Select[Any]:
    """Per home region: volunteers registered by the period's end, and how many were active."""
    active = (
        _entries(period, include_exercises=include_exercises)
        .with_only_columns(ActivityLogRow.volunteer_id, maintain_column_froms=True)
        .where(ActivityLogRow.kind == kind_of(OfferAccepted))
        .distinct()
        .subquery()
    )
    volunteers = _VOLUNTEERS.c
    query = (
        select(
            volunteers.region_code,
            func.count().label("registered"),
            func.count(active.c.volunteer_id).label("active"),
        )
        .select_from(_VOLUNTEERS.outerjoin(active, active.c.volunteer_id == volunteers.id))
        .where(volunteers.registered_at < period.ends_at)
        .group_by(volunteers.region_code)
    )
    if region_codes is not None:
        query = query.where(volunteers.region_code.in_(region_codes))
    return query


def _region() -> Any:
    return func.coalesce(ActivityLogRow.region_code, RegistryIncidentRow.region_code)


def _entries(period: Period, *, include_exercises: bool) -> Select[Any]:
    """Entries of the period with their effective region, voided ones left out."""
    query = (
        select(
            ActivityLogRow.kind,
            ActivityLogRow.incident_id,
            _region().label("region_code"),
        )
        .select_from(ActivityLogRow)
        .outerjoin(
            RegistryIncidentRow, RegistryIncidentRow.incident_id == ActivityLogRow.incident_id
        )
        .where(
            ActivityLogRow.occurred_at >= period.starts_at,
            ActivityLogRow.occurred_at < period.ends_at,
            _not_voided(ActivityLogRow),
        )
    )
    if not include_exercises:
        exercise = func.coalesce(
            ActivityLogRow.is_exercise, RegistryIncidentRow.is_exercise, false()
        )
        query = query.where(exercise.is_(False))
    return query


def _not_voided(entry: Any) -> Any:
    voiding = aliased(ActivityLogRow)
    return ~exists().where(
        voiding.kind == VOIDED,
        voiding.payload["voids"].astext == cast(entry.event_id, String),
    )
