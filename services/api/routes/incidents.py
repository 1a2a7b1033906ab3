"""Incidents as GeoJSON: the list a map shows, and one incident with its areas and alerts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from services.api import queries
from services.api.auth.deps import CallerDep
from services.api.auth.principals import Principal, may_operate
from services.api.deps import PageDep, SessionDep
from services.api.geojson import (
    MEDIA_TYPE,
    GeoJSONResponse,
    collection_json,
    feature_json,
    parse_bbox,
)
from services.api.privacy import public_area, public_incident
from services.api.schemas import (
    IncidentAlert,
    IncidentArea,
    IncidentCollection,
    IncidentDetailFeature,
    IncidentDetailProperties,
    IncidentProperties,
)
from shared.events.incidents import IncidentStatus, IncidentType, LocalizedText
from shared.i18n import LANGUAGES

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

Lang = Literal["kk", "ru", "en"]
LangQuery = Annotated[
    Lang, Query(description="Language of `headline` and `event`; falls back kk → ru → en → any")
]
_GEOJSON: dict[str, Any] = {"content": {MEDIA_TYPE: {}}}


@router.get(
    "",
    response_class=GeoJSONResponse,
    responses={
        200: {"model": IncidentCollection, **_GEOJSON},
        400: {"description": "A bbox that cannot be read, with why"},
    },
    summary="Incidents as a GeoJSON FeatureCollection, newest first",
)
async def list_incidents(
    session: SessionDep,
    page: PageDep,
    caller: CallerDep,
    status: Annotated[list[IncidentStatus] | None, Query(description="Repeatable")] = None,
    incident_type: Annotated[
        list[IncidentType] | None, Query(alias="type", description="Repeatable")
    ] = None,
    region: Annotated[
        str | None,
        Query(pattern=r"^KZ-[0-9]{2}$", description="ISO 3166-2 code the area touches, e.g. KZ-39"),
    ] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Opened at or after, with an offset")
    ] = None,
    bbox: Annotated[
        str | None,
        Query(description="minLon,minLat,maxLon,maxLat (WGS 84); incidents whose area touches it"),
    ] = None,
    include_exercises: bool = True,
    lang: LangQuery = "kk",
) -> GeoJSONResponse:
    filters = queries.IncidentFilters(
        statuses=[value.value for value in status or ()],
        types=[value.value for value in incident_type or ()],
        region_code=region,
        opened_since=since,
        bbox=parse_bbox(bbox) if bbox is not None else None,
        include_exercises=include_exercises,
    )
    records = await queries.find_incidents(session, filters, limit=page.limit, offset=page.offset)
    features = (
        _feature(caller, record, _as_seen_by(caller, record, lang=lang)) for record in records
    )
    return GeoJSONResponse(collection_json(features))


@router.get(
    "/{incident_id}",
    response_class=GeoJSONResponse,
    responses={
        200: {"model": IncidentDetailFeature, **_GEOJSON},
        404: {"description": "No such incident"},
    },
    summary="One incident as a GeoJSON Feature, with the areas and alerts behind it",
)
async def get_incident(
    incident_id: UUID, session: SessionDep, caller: CallerDep, lang: LangQuery = "kk"
) -> GeoJSONResponse:
    record = await queries.get_incident(session, incident_id)
    areas = await queries.areas_of(session, incident_id)
    alerts = await queries.alerts_of(session, incident_id)
    properties = IncidentDetailProperties(
        **_as_seen_by(caller, record, lang=lang).model_dump(),
        areas=[IncidentArea(description=a.description, geocodes=a.geocodes) for a in areas],
        alerts=[
            IncidentAlert(
                identifier=a.identifier,
                sender=a.sender,
                sent=a.sent,
                msg_type=a.msg_type,
                status=a.status,
            )
            for a in alerts
        ],
    )
    return GeoJSONResponse(_feature(caller, record, properties))


def _feature(
    caller: Principal | None, record: queries.IncidentRecord, properties: IncidentProperties
) -> str:
    geometry = record.geometry
    if not may_operate(caller, record.region_codes):
        geometry = public_area(properties, geometry)
    return feature_json(record.id, geometry, properties)


def _as_seen_by(
    caller: Principal | None, record: queries.IncidentRecord, *, lang: str
) -> IncidentProperties:
    properties = incident_properties(record, lang=lang)
    if may_operate(caller, record.region_codes):
        return properties
    return public_incident(properties)


def incident_properties(record: queries.IncidentRecord, *, lang: str) -> IncidentProperties:
    texts = [LocalizedText.model_validate(text) for text in record.texts]
    preferred = in_preferred_order(texts, lang=lang)
    return IncidentProperties(
        type=record.type,
        priority=record.priority,
        status=record.status,
        alert_status=record.alert_status,
        is_exercise=record.is_exercise,
        source=record.source,
        severity=record.severity,
        urgency=record.urgency,
        certainty=record.certainty,
        headline=next((text.headline for text in preferred if text.headline), None),
        event=next((text.event for text in preferred if text.event), None),
        texts=texts,
        area_km2=record.area_km2,
        center=(round(record.center_lon, 6), round(record.center_lat, 6)),
        region_codes=record.region_codes,
        opened_at=record.opened_at,
        updated_at=record.updated_at,
        expires_at=record.expires_at,
        version=record.version,
        area_to_confirm=record.area_to_confirm,
    )


def in_preferred_order(texts: Sequence[LocalizedText], *, lang: str) -> list[LocalizedText]:
    """`lang` first, then Kazakh, Russian, English, then the rest as the sender ordered them."""
    order = _unique((lang, *LANGUAGES))
    rank = {language: position for position, language in enumerate(order)}
    return sorted(texts, key=lambda text: rank.get(_primary(text.language), len(rank)))


def _primary(language: str) -> str:
    return language.split("-")[0].casefold()


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
