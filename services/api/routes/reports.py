"""`GET /api/v1/reports/regions`: what the registry counts, per region, for analysts.

Incidents, offers and how they ended, deployments and volunteer hours, and the share of registered
volunteers who were active (roadmap 1.1.3, 1.3, 1.5), over Kazakhstan calendar days — computed by
the registry's own report (`services.registry.queries.region_activity`), the same the CLI prints.
Counts only: nobody's name, phone or id. JSON, or CSV for a spreadsheet (`format=csv`).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, StringConstraints

from services.api.auth.deps import AnalystDep, clock
from services.api.deps import SessionDep
from services.api.errors import InvalidQueryError
from services.api.schemas import Problem
from services.registry.queries import region_activity
from services.registry.reports import Period, RegionActivity
from services.registry.reports.export import to_csv
from shared.reference import KAZAKHSTAN_TZ

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

MAX_DAYS = 366

REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "A period inside out or longer than a year"},
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "Not an analyst or an admin"},
}


class RegionReport(BaseModel):
    first_day: date
    last_day: date
    region_code: str | None
    exercises_included: bool
    incidents_opened: int
    offers_sent: int
    deployments: int
    offers_declined: int
    offers_timed_out: int
    offers_stood_down: int
    groups_completed: int
    groups_understaffed: int
    volunteer_hours: float
    unique_active_volunteers: int
    registered_volunteers: int
    active_registered_volunteers: int
    active_share: float | None


# The report's figures as the registry computes them (`RegionActivity`), by name.
FROM_ROW = frozenset(field.name for field in fields(RegionActivity)) - {"period"}


def period_of(first: date | None, last: date | None, *, today: date) -> Period:
    """The days asked for: by default the last 30 up to today; at most a year."""
    last = last or today
    first = first or last - timedelta(days=29)
    if last < first:
        raise InvalidQueryError(f"the period ends ({last}) before it starts ({first})")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidQueryError(f"a report covers at most {MAX_DAYS} days")
    return Period(first, last)


@router.get(
    "/regions",
    response_model=list[RegionReport],
    responses={**REFUSED, 200: {"content": {"text/csv": {}}}},
    summary="Activity per region over a period: incidents, offers, deployments, hours, shares",
)
async def regions_report(
    request: Request,
    analyst: AnalystDep,
    session: SessionDep,
    first_day: Annotated[date | None, Query(alias="from")] = None,
    last_day: Annotated[date | None, Query(alias="to")] = None,
    region: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,6}$")]] | None,
        Query(description="ISO 3166-2 (KZ-39); repeatable; every region when left out"),
    ] = None,
    exercises: Annotated[bool, Query(description="Count drills too")] = False,
    as_format: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response:
    now = clock(request)
    period = period_of(first_day, last_day, today=now.astimezone(KAZAKHSTAN_TZ).date())
    rows = await region_activity(
        session, period, region_codes=region or None, include_exercises=exercises, as_of=now
    )
    if as_format == "csv":
        name = f"jedel-regions-{period.first_day}-{period.last_day}.csv"
        return Response(
            to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    reports = [
        RegionReport.model_validate(
            {
                **{
                    name: getattr(row, name)
                    for name in RegionReport.model_fields
                    if name in FROM_ROW
                },
                "first_day": row.period.first_day,
                "last_day": row.period.last_day,
                "volunteer_hours": round(row.volunteer_hours, 2),
                "active_share": row.active_share,
            }
        ).model_dump(mode="json")
        for row in rows
    ]
    return JSONResponse(reports)
