"""Where a group's members have been: each deployed member's track and newest position, for the
dispatcher's map.

Read from the tracker's tables: raw track points while they are kept, else the thinned line a
deployment became (`services.tracker.deployments.thin_before`). Lines are simplified to ~10 m for
the map (a day at a fix every 30 s is ~3,000 points; the map needs a few hundred). Only deployed
volunteers have tracks: nobody else's fixes are kept (`services.tracker.tables`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.tracking import FieldStatus

# ~10 m in degrees: the map's line keeps to the streets it followed.
SIMPLIFY_DEG = 0.0001

_TRACKS = text(
    """
    WITH raw AS (
        SELECT volunteer_id,
               ST_AsGeoJSON(ST_Simplify(ST_MakeLine(location::geometry ORDER BY recorded_at),
                                        :tolerance, true), 6) AS line,
               ST_AsGeoJSON((array_agg(location::geometry ORDER BY recorded_at DESC))[1], 6)
                   AS newest,
               max(recorded_at) AS newest_at, count(*) AS points
        FROM track_points WHERE incident_id = :incident GROUP BY volunteer_id
    ), thinned AS (
        SELECT volunteer_id, ST_AsGeoJSON(track::geometry, 6) AS line,
               ST_AsGeoJSON(ST_EndPoint(track::geometry), 6) AS newest,
               last_at AS newest_at, points
        FROM deployment_tracks
        WHERE incident_id = :incident AND volunteer_id NOT IN (SELECT volunteer_id FROM raw)
    )
    SELECT d.volunteer_id, d.role, d.status, d.released_at, t.line, t.newest, t.newest_at,
           t.points
    FROM deployments d
    JOIN (SELECT * FROM raw UNION ALL SELECT * FROM thinned) t USING (volunteer_id)
    WHERE d.incident_id = :incident
    ORDER BY d.role, d.volunteer_id
    """
)


@dataclass(frozen=True, slots=True)
class MemberTrack:
    volunteer_id: UUID
    role: str
    field_status: FieldStatus
    released: bool
    track: list[tuple[float, float]] | None  # [lon, lat] from first to newest; None: one fix
    newest: tuple[float, float]
    newest_at: datetime
    points: int


def _coordinates(geojson: str) -> list[tuple[float, float]]:
    geometry = json.loads(geojson)
    if geometry["type"] == "Point":
        return [tuple(geometry["coordinates"][:2])]
    return [tuple(point[:2]) for point in geometry["coordinates"]]


async def member_tracks(session: AsyncSession, incident_id: UUID) -> list[MemberTrack]:
    """Every member with at least one fix kept on this incident, released ones included."""
    rows = await session.execute(_TRACKS, {"incident": incident_id, "tolerance": SIMPLIFY_DEG})
    tracks = []
    for row in rows:
        line = _coordinates(row.line) if row.points > 1 and row.line else None
        [newest] = _coordinates(row.newest)
        tracks.append(
            MemberTrack(
                volunteer_id=row.volunteer_id,
                role=row.role,
                field_status=FieldStatus(row.status),
                released=row.released_at is not None,
                track=line if line and len(line) > 1 else None,
                newest=newest,
                newest_at=row.newest_at,
                points=int(row.points),
            )
        )
    return tracks
