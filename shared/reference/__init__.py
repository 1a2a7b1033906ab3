"""Reference data for Kazakhstan: regions, districts, settlements and the national time zone.

The data is vendored in ``data/`` and rebuilt by ``infra/data/build_reference.py``; see
``NOTICE`` for sources and licences (GeoNames data is CC BY 4.0 and must be credited).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from shared.reference.districts import District, load_districts
from shared.reference.regions import (
    Region,
    load_regions,
    region_at,
    region_by_code,
    region_by_geonames_admin1,
)
from shared.reference.settlements import Settlement, load_settlements

# All of Kazakhstan has used UTC+5 since 2024-03-01; "Asia/Almaty" gives +05:00 with
# tzdata 2024a or newer.
KAZAKHSTAN_TZ = ZoneInfo("Asia/Almaty")

__all__ = [
    "KAZAKHSTAN_TZ",
    "District",
    "Region",
    "Settlement",
    "load_districts",
    "load_regions",
    "load_settlements",
    "region_at",
    "region_by_code",
    "region_by_geonames_admin1",
]
