"""Registry reports per region and period (roadmap 1.1.3, 1.3, 1.5): SQL builders and arithmetic.

The rules, in one place:
- **Period**: whole Kazakhstan calendar days (UTC+5), first to last inclusive. An event counts in
  the period it occurred in; a deployment (and all its hours) in the period it was accepted.
- **Region** of an entry: its incident's region (the ISO 3166-2 code its area touches most), as
  stamped when recorded, else as `registry_incidents` knows it now.
- **Deployment**: an accepted offer. **Volunteer-hours** of a deployment: from acceptance to the
  first of (the offer stood down or declined after acceptance, the incident cancelled or expired),
  at most `max_h`. With no end recorded, the incident type's default shift (the playbook's
  expected length of one call-out), or the time elapsed so far when that is shorter.
- **Active volunteer**: one with at least one deployment in the period. The share of active
  volunteers (roadmap 1.3/1.5) is by home region: volunteers registered in the region (by the end
  of the period) with a deployment anywhere, over all registered there.
- Exercises are left out unless asked for; voided entries (`EntryVoided`) always are.
"""

from services.registry.reports.export import CSV_COLUMNS, to_csv
from services.registry.reports.sql import counts_query, deployments_query, registrations_query
from services.registry.reports.values import (
    DEFAULT_SHIFT_H,
    Deployment,
    HoursRule,
    Period,
    RegionActivity,
    RegionCounts,
    Registration,
    summarise,
)

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_SHIFT_H",
    "Deployment",
    "HoursRule",
    "Period",
    "RegionActivity",
    "RegionCounts",
    "Registration",
    "counts_query",
    "deployments_query",
    "registrations_query",
    "summarise",
    "to_csv",
]
