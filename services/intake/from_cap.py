"""A parsed CAP alert → an incident draft: its shape, regions, type and priority (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

import shapely
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry

from services.intake.cap import CapAlert, CapArea, CapInfo, classify_alert
from services.intake.draft import AreaPart, IncidentDraft
from services.intake.regions import RegionIndex, is_region_geocode, normalize_region_code
from shared.events.incidents import AlertStatus, IncidentSource, LocalizedText
from shared.geo import as_multipolygon, geodesic_area_km2
from shared.i18n import LANGUAGES
from shared.rejections import Rejected

_SEVERITY_RANK = {"Extreme": 4, "Severe": 3, "Moderate": 2, "Minor": 1}


def draft_from_cap(alert: CapAlert, *, regions: RegionIndex) -> IncidentDraft:
    if not alert.infos:
        raise Rejected("no_area", "the alert has no <info> block, so nothing says what or where")
    parts = tuple(_resolve_area(area, regions) for area in _distinct_areas(alert.infos))
    if not parts:
        raise Rejected(
            "no_area", "the alert names no <area>; Jedel needs a polygon, circle or region geocode"
        )
    area = as_multipolygon(shapely.union_all([part.geometry for part in parts]))
    lead = max(alert.infos, key=lambda info: _SEVERITY_RANK.get(info.severity, 0))
    classification = classify_alert(alert)
    return IncidentDraft(
        source=IncidentSource.CAP,
        type=classification.type,
        priority=classification.priority,
        alert_status=AlertStatus(alert.status),
        severity=lead.severity,
        urgency=lead.urgency,
        certainty=lead.certainty,
        texts=texts_of(alert.infos),
        parts=parts,
        area=area,
        area_km2=geodesic_area_km2(area),
        center=center_of(area),
        region_codes=_regions_of(parts, area, regions),
        expires_at=_expiry(alert.infos),
    )


def texts_of(infos: Iterable[CapInfo]) -> tuple[LocalizedText, ...]:
    """One wording per language, Kazakh first, then Russian, English and any other."""
    by_language: dict[str, LocalizedText] = {}
    for info in infos:
        language = info.language.split("-")[0].casefold() or "en"
        by_language.setdefault(
            language,
            LocalizedText(
                language=language,
                event=info.event,
                headline=info.headline,
                description=info.description,
                instruction=info.instruction,
            ),
        )
    order: dict[str, int] = {language: rank for rank, language in enumerate(LANGUAGES)}
    return tuple(sorted(by_language.values(), key=lambda text: order.get(text.language, 99)))


def center_of(area: BaseGeometry) -> Point:
    centroid = area.centroid
    return centroid if area.contains(centroid) else area.representative_point()


def _distinct_areas(infos: Iterable[CapInfo]) -> list[CapArea]:
    """Each language's <info> usually repeats the same areas: keep each shape once, with the
    descriptions of every language joined (Kazakh first when the sender put it first)."""
    by_shape: dict[tuple[bytes | None, tuple[tuple[str, str], ...]], list[CapArea]] = {}
    for info in infos:
        for area in info.areas:
            shape = area.geometry.normalize().wkb if area.geometry is not None else None
            by_shape.setdefault((shape, area.geocodes), []).append(area)
    return [
        replace(same[0], description=" / ".join(dict.fromkeys(a.description for a in same)))
        for same in by_shape.values()
    ]


def _resolve_area(area: CapArea, regions: RegionIndex) -> AreaPart:
    if area.geometry is not None:
        return AreaPart(area.description, area.geocodes, as_multipolygon(area.geometry))
    region_codes = [value for name, value in area.geocodes if is_region_geocode(name)]
    boundaries: list[MultiPolygon] = []
    for code in region_codes:
        boundary = regions.boundary(code)
        if boundary is None:
            raise Rejected(
                "unknown_geocode",
                f"area '{area.description}' names region {code!r}, which is not an ISO 3166-2 "
                "code of a region of Kazakhstan (KZ-10 … KZ-79)",
            )
        boundaries.append(boundary)
    if not boundaries:
        named = ", ".join(f"{name}={value}" for name, value in area.geocodes) or "none"
        raise Rejected(
            "unknown_geocode",
            f"area '{area.description}' has no polygon or circle, and none of its geocodes "
            f"({named}) is an ISO 3166-2 region code",
        )
    return AreaPart(
        area.description,
        area.geocodes,
        as_multipolygon(shapely.union_all(boundaries)),
        region_codes=tuple(
            dict.fromkeys(normalize_region_code(code) or code for code in region_codes)
        ),
    )


def _regions_of(
    parts: tuple[AreaPart, ...], area: BaseGeometry, regions: RegionIndex
) -> tuple[str, ...]:
    if all(part.region_codes is not None for part in parts):
        return tuple(dict.fromkeys(code for part in parts for code in part.region_codes or ()))
    return regions.touched_by(area)


def _expiry(infos: Iterable[CapInfo]) -> datetime | None:
    expiries = [info.expires for info in infos]
    # One <info> without an end keeps the whole alert open.
    if not expiries or any(expiry is None for expiry in expiries):
        return None
    return max(expiry for expiry in expiries if expiry is not None)
