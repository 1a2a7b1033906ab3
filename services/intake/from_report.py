"""A police missing-person report → an incident draft (pure)."""

from __future__ import annotations

from pydantic import ValidationError
from shapely.geometry import Point

from services.intake.draft import AreaPart, IncidentDraft
from services.intake.regions import RegionIndex
from shared.events.alerts import MissingPersonReported, SubjectCategory
from shared.events.incidents import (
    AlertStatus,
    IncidentSource,
    IncidentType,
    LocalizedText,
    Priority,
    SubjectSummary,
)
from shared.geo import GeometryError, as_multipolygon, geodesic_area_km2, geodesic_circle
from shared.i18n import LANGUAGES, translate
from shared.rejections import Rejected, describe

MAX_REPORT_BYTES = 64 * 1024
_REASON_MAX_CHARS = 500

# Initial search radius by subject category: roughly the 75th-percentile distance from the initial
# planning point in lost-person-behaviour statistics (Koester, 2008), flat/steppe terrain. The
# search service replaces it with proper distance rings.
DEFAULT_RADIUS_KM: dict[SubjectCategory, float] = {
    SubjectCategory.CHILD: 3.0,
    SubjectCategory.ADULT: 5.0,
    SubjectCategory.ELDERLY: 3.0,
    SubjectCategory.DEMENTIA: 2.5,
    SubjectCategory.DESPONDENT: 3.0,
    SubjectCategory.HIKER: 10.0,
    SubjectCategory.HUNTER: 10.0,
    SubjectCategory.OTHER: 5.0,
}
_VULNERABLE = {SubjectCategory.CHILD, SubjectCategory.ELDERLY, SubjectCategory.DEMENTIA}


def parse_report(data: bytes) -> MissingPersonReported:
    if len(data) > MAX_REPORT_BYTES:
        raise Rejected(
            "too_large", f"the report is {len(data):,} bytes; the limit is {MAX_REPORT_BYTES:,}"
        )
    try:
        return MissingPersonReported.model_validate_json(data)
    except ValidationError as error:
        reason = describe(error)  # quotes field names, and those are the sender's to choose
        if len(reason) > _REASON_MAX_CHARS:
            reason = reason[: _REASON_MAX_CHARS - 1] + "…"
        raise Rejected("invalid_report", reason) from None


def draft_from_report(report: MissingPersonReported, *, regions: RegionIndex) -> IncidentDraft:
    """The incident a police report describes: a search circle around where the person was last
    seen, kept whole across a border. One that touches no region of Kazakhstan is flagged
    `outside_service_area`, as a CAP area would be: recorded, and nobody is called out."""
    person, seen = report.person, report.last_seen
    radius_km = report.search_radius_km or DEFAULT_RADIUS_KM[person.category]
    try:
        circle = geodesic_circle(seen.longitude, seen.latitude, radius_km * 1000)
    except GeometryError as exc:  # a radius too small to draw (the contract only says > 0)
        raise Rejected(
            "invalid_report", f"search_radius_km: {radius_km:g} km draws no search area ({exc})"
        ) from None
    area = as_multipolygon(circle)
    region_codes = regions.touched_by(area)
    vulnerable = person.category in _VULNERABLE or person.age_years < 14 or person.age_years >= 65
    place = seen.place or f"{seen.latitude:.4f}, {seen.longitude:.4f}"
    texts = tuple(
        LocalizedText(
            language=language,
            event=translate("missing_person.event", language),
            headline=translate(
                "missing_person.headline",
                language,
                name=person.full_name,
                age=person.age_years,
                place=place,
            ),
            description=person.description,
            instruction=person.medical_needs,
        )
        for language in LANGUAGES
    )
    return IncidentDraft(
        source=IncidentSource.MISSING_PERSON,
        type=IncidentType.MISSING_PERSON,
        priority=Priority.CRITICAL if vulnerable else Priority.HIGH,
        alert_status=AlertStatus.EXERCISE if report.is_exercise else AlertStatus.ACTUAL,
        severity=None,
        urgency="Immediate",
        certainty="Observed",
        texts=texts,
        parts=(AreaPart(place, (), area),),
        area=area,
        area_km2=geodesic_area_km2(area),
        center=Point(seen.longitude, seen.latitude),
        region_codes=region_codes,
        expires_at=None,
        outside_service_area=not region_codes,
        subject=SubjectSummary(
            category=person.category.value,
            age_years=person.age_years,
            last_seen_at=seen.at,
            last_seen_lon=seen.longitude,
            last_seen_lat=seen.latitude,
        ),
    )
