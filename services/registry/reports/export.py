"""The report as CSV for an analyst."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from services.registry.reports.values import RegionActivity

CSV_COLUMNS = (
    "first_day",
    "last_day",
    "region_code",
    "exercises_included",
    "incidents_opened",
    "offers_sent",
    "deployments",
    "offers_declined",
    "offers_timed_out",
    "offers_stood_down",
    "groups_completed",
    "groups_understaffed",
    "volunteer_hours",
    "unique_active_volunteers",
    "registered_volunteers",
    "active_registered_volunteers",
    "active_share",
)


def to_csv(rows: Iterable[RegionActivity]) -> str:
    """The report as CSV for an analyst: one header line, one line per region, dates in ISO."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        share = row.active_share
        writer.writerow(
            (
                row.period.first_day.isoformat(),
                row.period.last_day.isoformat(),
                row.region_code or "",
                "yes" if row.exercises_included else "no",
                row.incidents_opened,
                row.offers_sent,
                row.deployments,
                row.offers_declined,
                row.offers_timed_out,
                row.offers_stood_down,
                row.groups_completed,
                row.groups_understaffed,
                f"{row.volunteer_hours:.2f}",
                row.unique_active_volunteers,
                row.registered_volunteers,
                row.active_registered_volunteers,
                "" if share is None else f"{share:.4f}",
            )
        )
    return out.getvalue()
