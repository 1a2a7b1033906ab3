"""The 20 first-level regions and the settlements as GeoJSON: the web map's basemap, so it needs
no tile server."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api import queries
from services.api.deps import SessionDep
from services.api.geojson import MEDIA_TYPE, GeoJSONResponse, collection_json, feature_json
from services.api.schemas import (
    RegionCollection,
    RegionProperties,
    SettlementCollection,
    SettlementProperties,
)

router = APIRouter(prefix="/api/v1", tags=["regions"])

# Boundaries change by law, not by the minute.
CACHE_CONTROL = "public, max-age=3600"


@router.get(
    "/regions",
    response_class=GeoJSONResponse,
    responses={200: {"model": RegionCollection, "content": {MEDIA_TYPE: {}}}},
    summary="Regions with simplified boundaries; empty until the reference data is seeded",
)
async def list_regions(session: SessionDep) -> GeoJSONResponse:
    regions = await queries.list_regions(session)
    features = (
        feature_json(
            region.code,
            region.geometry,
            RegionProperties(
                code=region.code,
                name_kk=region.name_kk,
                name_ru=region.name_ru,
                name_en=region.name_en,
                area_km2=region.area_km2,
            ),
        )
        for region in regions
    )
    return GeoJSONResponse(collection_json(features), headers={"Cache-Control": CACHE_CONTROL})


@router.get(
    "/settlements",
    response_class=GeoJSONResponse,
    responses={200: {"model": SettlementCollection, "content": {MEDIA_TYPE: {}}}},
    summary="Cities, towns and villages as points, largest first; empty until seeded",
)
async def list_settlements(
    session: SessionDep,
    region: Annotated[
        str | None, Query(pattern=r"^KZ-[0-9]{2}$", description="Only this region's, e.g. KZ-39")
    ] = None,
) -> GeoJSONResponse:
    settlements = await queries.list_settlements(session, region)
    features = (
        feature_json(
            settlement.geonameid,
            settlement.geometry,
            SettlementProperties(
                name=settlement.name,
                name_ru=settlement.name_ru,
                population=settlement.population,
                region_code=settlement.region_code,
            ),
        )
        for settlement in settlements
    )
    return GeoJSONResponse(collection_json(features), headers={"Cache-Control": CACHE_CONTROL})
