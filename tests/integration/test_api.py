"""The HTTP API against the real `jedel_test` database: GeoJSON out, filters, errors, offline docs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.api.main import create_app
from services.api.schemas import (
    IncidentCollection,
    IncidentDetailFeature,
    RegionCollection,
    SettlementCollection,
)
from services.api.seed import seed_reference
from services.api.settings import ApiOptions, ApiSettings
from services.api.tables import RegionRow
from services.intake.tables import AlertRow, IncidentAreaRow, IncidentRow
from shared.geo import geodesic_area_km2
from shared.reference.settlements import load_settlements
from shared.settings import DatabaseSettings
from tests.running import api_client

pytestmark = pytest.mark.integration

INCIDENTS = "/api/v1/incidents"
GEOJSON = "application/geo+json"
TEST_REGION = "XX-TEST"


@dataclass(frozen=True)
class Seeded:
    kostanay_flood: UUID
    exercise_flood: UUID
    almaty_mudflow: UUID
    akmola_blizzard: UUID


@pytest.fixture(scope="module")
async def client(database_settings: DatabaseSettings) -> AsyncIterator[httpx.AsyncClient]:
    settings = ApiSettings(
        environment="test",
        database=database_settings,
        api=ApiOptions(default_page_size=100, max_page_size=1000),
    )
    async with api_client(settings) as http:
        yield http


def _texts(**headlines: str) -> list[dict[str, Any]]:
    return [
        {"language": language, "event": f"{language} event", "headline": headline}
        for language, headline in headlines.items()
    ]


def _incident(
    *,
    incident_type: str,
    status: str,
    bounds: tuple[float, float, float, float],
    region_codes: list[str],
    opened_at: datetime,
    texts: list[dict[str, Any]],
    is_exercise: bool = False,
) -> IncidentRow:
    area = MultiPolygon([box(*bounds)])
    centroid = area.centroid
    return IncidentRow(
        id=uuid4(),
        type=incident_type,
        priority="high",
        status=status,
        alert_status="Exercise" if is_exercise else "Actual",
        is_exercise=is_exercise,
        source="cap",
        severity="Severe",
        urgency="Immediate",
        certainty="Observed",
        texts=texts,
        area=from_shape(area, srid=4326),
        area_km2=geodesic_area_km2(area),
        center=from_shape(centroid, srid=4326),
        region_codes=region_codes,
        subject=None,
        opened_at=opened_at,
        updated_at=opened_at,
        expires_at=None,
        version=1,
    )


@pytest.fixture
async def seeded(clean_intake: None, engine: AsyncEngine) -> Seeded:
    kostanay = _incident(
        incident_type="flood",
        status="open",
        bounds=(63.5, 53.1, 63.7, 53.3),
        region_codes=["KZ-39"],
        opened_at=datetime(2025, 4, 10, 8, 0, tzinfo=UTC),
        texts=_texts(kk="Тобыл өзені тасыды", ru="Разлив реки Тобол", en="Tobol river flood"),
    )
    exercise = _incident(
        incident_type="flood",
        status="open",
        bounds=(63.8, 53.0, 63.9, 53.1),
        region_codes=["KZ-39"],
        opened_at=datetime(2025, 4, 11, 8, 0, tzinfo=UTC),
        texts=_texts(ru="Учения: паводок"),
        is_exercise=True,
    )
    # Between 43.1 and 43.3 °N: south of the great circle joining (46, 42) and (88, 42), so only
    # a bbox whose edges follow the parallels finds it.
    almaty = _incident(
        incident_type="mudflow",
        status="open",
        bounds=(76.85, 43.1, 77.0, 43.3),
        region_codes=["KZ-75", "KZ-19"],
        opened_at=datetime(2025, 4, 12, 8, 0, tzinfo=UTC),
        texts=_texts(ru="Сель в Медеу", en="Mudflow at Medeu"),
    )
    akmola = _incident(
        incident_type="blizzard",
        status="cancelled",
        bounds=(71.2, 51.0, 71.6, 51.3),
        region_codes=["KZ-11"],
        opened_at=datetime(2025, 4, 1, 8, 0, tzinfo=UTC),
        texts=_texts(kk="Боран", ru="Метель"),
    )
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        session.add_all([kostanay, exercise, almaty, akmola])
        await session.flush()
        for number, sent in enumerate(
            (datetime(2025, 4, 10, 7, 55, tzinfo=UTC), datetime(2025, 4, 10, 9, 0, tzinfo=UTC)), 1
        ):
            alert = AlertRow(
                id=uuid4(),
                source="cap",
                sender="kazhydromet@example.kz",
                identifier=f"KZ-FLOOD-{number}",
                sent=sent,
                msg_type="Alert" if number == 1 else "Update",
                status="Actual",
                references=[],
                incident_id=kostanay.id,
                topic="alerts.cap.v1",
                partition=0,
                offset=number,
                raw=b"<alert/>",
            )
            session.add(alert)
            await session.flush()
            session.add(
                IncidentAreaRow(
                    incident_id=kostanay.id,
                    alert_id=alert.id,
                    description=f"Kostanay, area {number}",
                    geocodes=[["ISO3166-2", "KZ-39"]],
                    geometry=from_shape(MultiPolygon([box(63.5, 53.1, 63.7, 53.3)]), srid=4326),
                )
            )
    return Seeded(
        kostanay_flood=kostanay.id,
        exercise_flood=exercise.id,
        almaty_mudflow=almaty.id,
        akmola_blizzard=akmola.id,
    )


async def _ids(client: httpx.AsyncClient, **params: Any) -> list[UUID]:
    response = await client.get(INCIDENTS, params=params)
    assert response.status_code == 200, response.text
    return [UUID(feature["id"]) for feature in response.json()["features"]]


def _positions(geometry: dict[str, Any]) -> list[list[float]]:
    return [
        position for polygon in geometry["coordinates"] for ring in polygon for position in ring
    ]


async def test_incidents_are_a_geojson_feature_collection_in_lon_lat(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await client.get(INCIDENTS)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GEOJSON)
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberReturned"] == 4
    IncidentCollection.model_validate(body)  # the OpenAPI description matches the answer
    features = {UUID(feature["id"]): feature for feature in body["features"]}
    kostanay = features[seeded.kostanay_flood]
    assert kostanay["type"] == "Feature"
    assert kostanay["geometry"]["type"] == "MultiPolygon"
    for lon, lat in _positions(kostanay["geometry"]):
        assert 63.5 <= lon <= 63.7
        assert 53.1 <= lat <= 53.3
    properties = kostanay["properties"]
    assert properties["center"] == pytest.approx([63.6, 53.2], abs=1e-3)
    assert properties["area_km2"] == pytest.approx(295, rel=0.05)
    assert properties["region_codes"] == ["KZ-39"]
    assert properties["type"] == "flood"
    assert properties["status"] == "open"
    assert properties["alert_status"] == "Actual"
    assert properties["is_exercise"] is False
    assert properties["opened_at"] == "2025-04-10T08:00:00Z"
    assert properties["version"] == 1
    assert [text["language"] for text in properties["texts"]] == ["kk", "ru", "en"]


async def test_incidents_are_newest_first_and_paged(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    newest_first = [
        seeded.almaty_mudflow,
        seeded.exercise_flood,
        seeded.kostanay_flood,
        seeded.akmola_blizzard,
    ]

    assert await _ids(client) == newest_first
    assert await _ids(client, limit=2) == newest_first[:2]
    assert await _ids(client, limit=2, offset=2) == newest_first[2:]
    assert await _ids(client, offset=10) == []


async def test_incidents_filter_by_status_and_type(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    assert await _ids(client, status="cancelled") == [seeded.akmola_blizzard]
    assert len(await _ids(client, status=["open", "cancelled"])) == 4
    assert set(await _ids(client, type="flood")) == {seeded.kostanay_flood, seeded.exercise_flood}
    assert set(await _ids(client, type=["mudflow", "blizzard"], status="open")) == {
        seeded.almaty_mudflow
    }


async def test_incidents_filter_by_region_since_and_exercises(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    assert set(await _ids(client, region="KZ-39")) == {
        seeded.kostanay_flood,
        seeded.exercise_flood,
    }
    assert await _ids(client, region="KZ-19") == [seeded.almaty_mudflow]
    # 13:00 in Kazakhstan is 08:00 UTC, exactly when the Kostanay flood opened.
    assert await _ids(client, since="2025-04-10T13:00:00+05:00") == [
        seeded.almaty_mudflow,
        seeded.exercise_flood,
        seeded.kostanay_flood,
    ]
    assert seeded.exercise_flood not in await _ids(client, include_exercises="false")
    assert len(await _ids(client, include_exercises="false")) == 3


async def test_incidents_filter_by_bbox(client: httpx.AsyncClient, seeded: Seeded) -> None:
    assert set(await _ids(client, bbox="60,50,66,55")) == {
        seeded.kostanay_flood,
        seeded.exercise_flood,
    }
    assert await _ids(client, bbox="63.55,53.15,63.6,53.2") == [seeded.kostanay_flood]
    assert await _ids(client, bbox="10,10,20,20") == []
    assert seeded.almaty_mudflow in await _ids(client, bbox="46,42,88,56")


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ("60,50,66", "must be four numbers"),
        ("60,50,east,55", "maxLon 'east' is not a number"),
        ("66,50,60,55", "minLon 66 must be less than maxLon 60"),
        ("60,50,66,95", "maxLat 95 is outside [-90, 90]"),
        ("nan,50,66,55", "not a finite number"),
    ],
)
async def test_unreadable_bbox_is_a_400_that_says_why(
    client: httpx.AsyncClient, bbox: str, message: str
) -> None:
    response = await client.get(INCIDENTS, params={"bbox": bbox})

    assert response.status_code == 400
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "closed"}, "status"),
        ({"type": "volcano"}, "type"),
        ({"region": "Kostanay"}, "region"),
        ({"since": "2025-04-10T08:00:00"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"offset": -1}, "offset"),
        ({"lang": "de"}, "lang"),
    ],
)
async def test_bad_query_values_are_a_422_naming_the_parameter(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get(INCIDENTS, params=params)

    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [error["loc"][:2] for error in errors] == [["query", field]]
    assert errors[0]["msg"]


async def test_headline_and_event_follow_the_language_with_fallback(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    async def properties(incident_id: UUID, **params: str) -> dict[str, Any]:
        response = await client.get(INCIDENTS, params=params)
        features = {UUID(feature["id"]): feature for feature in response.json()["features"]}
        return dict(features[incident_id]["properties"])

    assert (await properties(seeded.kostanay_flood))["headline"] == "Тобыл өзені тасыды"
    assert (await properties(seeded.kostanay_flood, lang="ru"))["headline"] == "Разлив реки Тобол"
    english = await properties(seeded.kostanay_flood, lang="en")
    assert (english["headline"], english["event"]) == ("Tobol river flood", "en event")
    # No Kazakh text: Russian comes next, whatever language was asked for and is missing.
    assert (await properties(seeded.almaty_mudflow))["headline"] == "Сель в Медеу"
    assert (await properties(seeded.exercise_flood, lang="en"))["headline"] == "Учения: паводок"


async def test_one_incident_is_a_feature_with_its_areas_and_alerts(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await client.get(f"{INCIDENTS}/{seeded.kostanay_flood}", params={"lang": "ru"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GEOJSON)
    feature = response.json()
    IncidentDetailFeature.model_validate(feature)
    assert feature["type"] == "Feature"
    assert feature["id"] == str(seeded.kostanay_flood)
    assert feature["geometry"]["type"] == "MultiPolygon"
    properties = feature["properties"]
    assert properties["headline"] == "Разлив реки Тобол"
    assert properties["areas"] == [
        {"description": "Kostanay, area 1", "geocodes": [["ISO3166-2", "KZ-39"]]},
        {"description": "Kostanay, area 2", "geocodes": [["ISO3166-2", "KZ-39"]]},
    ]
    assert properties["alerts"] == [
        {
            "identifier": "KZ-FLOOD-1",
            "sender": "kazhydromet@example.kz",
            "sent": "2025-04-10T07:55:00Z",
            "msg_type": "Alert",
            "status": "Actual",
        },
        {
            "identifier": "KZ-FLOOD-2",
            "sender": "kazhydromet@example.kz",
            "sent": "2025-04-10T09:00:00Z",
            "msg_type": "Update",
            "status": "Actual",
        },
    ]


async def test_an_incident_without_alerts_has_empty_lists(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await client.get(f"{INCIDENTS}/{seeded.almaty_mudflow}")

    assert response.status_code == 200
    assert response.json()["properties"]["areas"] == []
    assert response.json()["properties"]["alerts"] == []


async def test_unknown_incident_is_a_404_and_a_malformed_id_a_422(
    client: httpx.AsyncClient, clean_intake: None
) -> None:
    unknown = uuid4()

    missing = await client.get(f"{INCIDENTS}/{unknown}")
    malformed = await client.get(f"{INCIDENTS}/not-a-uuid")

    assert missing.status_code == 404
    assert missing.json() == {"detail": f"incident {unknown} not found"}
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["path", "incident_id"]


async def test_regions_are_a_simplified_feature_collection(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # Detailed enough that simplifying at 0.01° visibly drops points.
    ring = [(70 + i / 1000, 50 + (i % 2) / 10_000) for i in range(201)]
    ring += [(70.2, 50.2), (70.0, 50.2), ring[0]]
    boundary = MultiPolygon([(ring, [])])
    region = RegionRow(
        code=TEST_REGION,
        name_kk="Сынақ облысы",
        name_ru="Тестовая область",
        name_en="Test Region",
        geonames_admin1="XX",
        boundary=from_shape(boundary, srid=4326),
        area_km2=geodesic_area_km2(boundary),
    )
    async with AsyncSession(engine) as session, session.begin():
        await session.execute(delete(RegionRow).where(RegionRow.code == TEST_REGION))
        session.add(region)
    try:
        response = await client.get("/api/v1/regions")
    finally:
        async with AsyncSession(engine) as session, session.begin():
            await session.execute(delete(RegionRow).where(RegionRow.code == TEST_REGION))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GEOJSON)
    body = response.json()
    RegionCollection.model_validate(body)
    features = {feature["id"]: feature for feature in body["features"]}
    test_region = features[TEST_REGION]
    assert test_region["properties"]["name_en"] == "Test Region"
    assert test_region["geometry"]["type"] == "MultiPolygon"
    positions = _positions(test_region["geometry"])
    assert len(positions) < len(ring) / 10
    assert all(69.99 <= lon <= 70.21 and 49.99 <= lat <= 50.21 for lon, lat in positions)
    for feature in body["features"]:
        assert feature["geometry"]["type"] == "MultiPolygon"
        assert set(feature["properties"]) == {"code", "name_kk", "name_ru", "name_en", "area_km2"}


async def test_health_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_is_503_when_the_database_is_down() -> None:
    app = create_app(
        ApiSettings(
            environment="test",
            database=DatabaseSettings(url="postgresql+asyncpg://postgres@127.0.0.1:1/none"),
        )
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        response = await http.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"].startswith("unreachable")


_ASSET = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", re.IGNORECASE)


@pytest.mark.parametrize("page", ["/docs", "/asyncapi"])
async def test_docs_pages_use_only_local_assets(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "http://" not in html
    assert "https://" not in html
    assets = [url for url in _ASSET.findall(html) if not url.startswith("data:")]
    assert any(url.endswith(".js") for url in assets)
    assert any(url.endswith(".css") for url in assets)
    for url in assets:
        assert url.startswith("/static/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0


async def test_openapi_describes_geojson_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    listing = paths["/api/v1/incidents"]["get"]["responses"]["200"]["content"]
    assert listing[GEOJSON]["schema"] == {"$ref": "#/components/schemas/IncidentCollection"}
    assert "/api/v1/incidents/{incident_id}" in paths
    assert "/api/v1/regions" in paths
    assert "/docs" not in paths


async def test_asyncapi_lists_the_topics_with_their_payloads(client: httpx.AsyncClient) -> None:
    response = await client.get("/asyncapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["asyncapi"].startswith("3.")
    channels = {channel["address"]: channel for channel in document["channels"].values()}
    assert {"incidents.v1", "alerts.missing_person.v1", "alerts.cap.v1"} <= set(channels)
    assert "alerts.dead_letter.v1" in channels
    messages = document["components"]["messages"]
    schemas = document["components"]["schemas"]

    def payload_of(address: str) -> dict[str, Any]:
        reference = next(iter(channels[address]["messages"].values()))["$ref"]
        payload = messages[reference.rsplit("/", 1)[-1]]["payload"]
        if "$ref" in payload:
            return dict(schemas[payload["$ref"].rsplit("/", 1)[-1]])
        return dict(payload)

    incident_refs = {option["$ref"] for option in payload_of("incidents.v1")["anyOf"]}
    assert "#/components/schemas/IncidentOpened" in incident_refs
    assert "#/components/schemas/IncidentCancelled" in incident_refs
    opened = schemas["IncidentOpened"]
    assert {"incident_id", "event_id", "occurred_at", "area", "kind"} <= set(opened["properties"])
    assert "report_id" in payload_of("alerts.missing_person.v1")["properties"]
    assert payload_of("alerts.cap.v1")["type"] == "string"
    assert "CAP" in channels["alerts.cap.v1"]["description"]
    dead_letter = channels["alerts.dead_letter.v1"]
    assert "dead_letter.reason" in dead_letter["description"]


async def test_settlements_are_points_of_their_region_largest_first(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await seed_reference(engine)
    kostanay_region = [s for s in load_settlements() if s.region_code == "KZ-39"]

    response = await client.get("/api/v1/settlements", params={"region": "KZ-39"})
    everywhere = await client.get("/api/v1/settlements")
    malformed = await client.get("/api/v1/settlements", params={"region": "Kostanay"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GEOJSON)
    body = SettlementCollection.model_validate(response.json())
    assert len(body.features) == len(kostanay_region) > 0
    assert {f.properties.region_code for f in body.features} == {"KZ-39"}
    populations = [f.properties.population for f in body.features]
    assert populations == sorted(populations, reverse=True)
    largest = body.features[0]
    assert largest.properties.name_ru == "Костанай"
    lon, lat = largest.geometry.coordinates
    assert 63 < lon < 64.5 and 52.5 < lat < 54
    assert len(everywhere.json()["features"]) == len(load_settlements())
    assert malformed.status_code == 422
