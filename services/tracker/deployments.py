"""Who is deployed where, and what their fixes say: track points, arrivals, departures.

`deploy` and `release` follow `mobilization.v1` (an accept opens a deployment at the group's
meeting point; a member stood down ends it). `follow` takes a batch of fixes: those of deployed
volunteers become track points, and each deployment's newer fixes, measured against its meeting
point and the incident's area in PostGIS, move its status (`services.tracker.field.next_status`);
every change is an event for `tracking.v1`, written to the tracker's outbox in the same
transaction. Replays change nothing: a point is unique per volunteer, incident and time, and a fix
no newer than the deployment's last decides nothing. `hear` takes what volunteers say of
themselves (`FieldStatusReported`) the same way (`services.tracker.field.said_status`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracker.field import Reading, next_status, said_status
from shared.events import topics
from shared.events.locations import FieldStatusReported
from shared.events.mobilization import OfferAccepted, OfferStoodDown
from shared.events.tracking import FieldStatus, VolunteerArrived, VolunteerLeftArea
from shared.events.volunteers import Role
from shared.outbox import OutgoingEvent
from shared.positions import Fix

_DEPLOY = text(
    """
    INSERT INTO deployments (incident_id, volunteer_id, offer_id, role, status, meeting_point,
                             accepted_at)
    SELECT m.incident_id, :volunteer, :offer, :role, :status, m.center, :at
    FROM mobilizations m WHERE m.incident_id = :incident
    ON CONFLICT (incident_id, volunteer_id) DO NOTHING
    """
)
_RELEASE = text(
    "UPDATE deployments SET released_at = :at "
    "WHERE incident_id = :incident AND volunteer_id = :volunteer AND released_at IS NULL"
)
_OPEN = text(
    """
    SELECT incident_id, volunteer_id, offer_id, role, status, last_fix_at FROM deployments
    WHERE volunteer_id = ANY(CAST(:volunteers AS uuid[])) AND released_at IS NULL
    """
)
_KEEP_POINTS = text(
    """
    INSERT INTO track_points (incident_id, volunteer_id, recorded_at, location, accuracy_m)
    SELECT u.i, u.v, u.t, CAST(ST_SetSRID(ST_MakePoint(u.x, u.y), 4326) AS geography), u.a
    FROM unnest(CAST(:incidents AS uuid[]), CAST(:volunteers AS uuid[]),
                CAST(:times AS timestamptz[]), CAST(:lons AS float8[]), CAST(:lats AS float8[]),
                CAST(:accuracies AS float8[])) AS u(i, v, t, x, y, a)
    ON CONFLICT ON CONSTRAINT uq_track_points_fix DO NOTHING
    """
)
_MEASURE = text(
    """
    SELECT u.n, ST_Distance(d.meeting_point, u.p) AS to_point,
           COALESCE(ST_Distance(i.area, u.p), 'Infinity') AS to_area
    FROM (SELECT n, i, v, CAST(ST_SetSRID(ST_MakePoint(x, y), 4326) AS geography) AS p
          FROM unnest(CAST(:n AS int[]), CAST(:incidents AS uuid[]), CAST(:volunteers AS uuid[]),
                      CAST(:lons AS float8[]), CAST(:lats AS float8[])) AS f(n, i, v, x, y)) u
    JOIN deployments d ON d.incident_id = u.i AND d.volunteer_id = u.v
    LEFT JOIN incidents i ON i.id = u.i
    """
)
_MOVE = text(
    """
    UPDATE deployments SET status = :status, last_fix_at = :last_fix_at,
           arrived_at = COALESCE(:arrived_at, arrived_at), left_at = COALESCE(:left_at, left_at)
    WHERE incident_id = :incident AND volunteer_id = :volunteer
    """
)


_SAID = text(
    """
    UPDATE deployments SET status = :status, reported_status = :said, reported_at = :at,
           last_fix_at = :at,
           arrived_at = CASE WHEN :arrived THEN :at ELSE arrived_at END,
           left_at = CASE WHEN :left THEN :at ELSE left_at END
    WHERE incident_id = :incident AND volunteer_id = :volunteer
    """
)


@dataclass(frozen=True, slots=True)
class _Deployment:
    incident_id: UUID
    volunteer_id: UUID
    offer_id: UUID
    role: str
    status: str
    last_fix_at: datetime | None


async def deploy(session: AsyncSession, accepted: OfferAccepted) -> None:
    await session.execute(
        _DEPLOY,
        {
            "incident": accepted.incident_id,
            "volunteer": accepted.volunteer_id,
            "offer": accepted.offer_id,
            "role": accepted.role.value,
            "status": FieldStatus.EN_ROUTE.value,
            "at": accepted.occurred_at,
        },
    )


async def release(session: AsyncSession, stood_down: OfferStoodDown) -> None:
    await session.execute(
        _RELEASE,
        {
            "incident": stood_down.incident_id,
            "volunteer": stood_down.volunteer_id,
            "at": stood_down.occurred_at,
        },
    )


async def follow(session: AsyncSession, fixes: Sequence[Fix]) -> list[OutgoingEvent]:
    """Keep the track points of deployed volunteers and move their status; the events to send."""
    volunteers = list({fix.volunteer_id for fix in fixes})
    if not volunteers:
        return []
    deployments = [
        _Deployment(**row._asdict())
        for row in await session.execute(_OPEN, {"volunteers": volunteers})
    ]
    if not deployments:
        return []
    deployed: dict[UUID, list[_Deployment]] = {}
    for deployment in deployments:
        deployed.setdefault(deployment.volunteer_id, []).append(deployment)
    pairs = [
        (deployment, fix)
        for fix in sorted(fixes, key=lambda f: f.recorded_at)
        for deployment in deployed.get(fix.volunteer_id, ())
    ]
    columns = {
        "incidents": [d.incident_id for d, _ in pairs],
        "volunteers": [d.volunteer_id for d, _ in pairs],
        "lons": [f.longitude for _, f in pairs],
        "lats": [f.latitude for _, f in pairs],
    }
    await session.execute(
        _KEEP_POINTS,
        {
            **columns,
            "times": [f.recorded_at for _, f in pairs],
            "accuracies": [f.accuracy_m for _, f in pairs],
        },
    )
    measured = {
        row.n: Reading(row.to_point, row.to_area, pairs[row.n][1].accuracy_m)
        for row in await session.execute(_MEASURE, {**columns, "n": list(range(len(pairs)))})
    }
    events: list[OutgoingEvent] = []
    for deployment in deployments:
        status = FieldStatus(deployment.status)
        last = deployment.last_fix_at
        arrived_at: datetime | None = None
        left_at: datetime | None = None
        for n, (owner, fix) in enumerate(pairs):
            if owner is not deployment or n not in measured:
                continue
            if last is not None and fix.recorded_at <= last:
                continue  # replayed or late: it decided already, or would undo what followed
            last = fix.recorded_at
            reading = measured[n]
            after = next_status(status, reading)
            if after is status:
                continue
            status = after
            event = _event(deployment, after, fix.recorded_at, reading)
            if isinstance(event, VolunteerArrived):
                arrived_at = fix.recorded_at
            else:
                left_at = fix.recorded_at
            events.append(OutgoingEvent(topics.TRACKING, str(deployment.incident_id), event))
        if last != deployment.last_fix_at:
            await session.execute(
                _MOVE,
                {
                    "status": status.value,
                    "last_fix_at": last,
                    "arrived_at": arrived_at,
                    "left_at": left_at,
                    "incident": deployment.incident_id,
                    "volunteer": deployment.volunteer_id,
                },
            )
    return events


async def hear(
    session: AsyncSession, reports: Sequence[FieldStatusReported]
) -> list[OutgoingEvent]:
    """What deployed volunteers said of themselves, in the order Jedel received it: each moves
    its deployment as a fix that showed it would (and, like a fix, one no newer than the last
    decides nothing); the events to send. Said by someone no longer deployed: nothing."""
    volunteers = list({report.volunteer_id for report in reports})
    if not volunteers:
        return []
    deployments = {
        (row.incident_id, row.volunteer_id): _Deployment(**row._asdict())
        for row in await session.execute(_OPEN, {"volunteers": volunteers})
    }
    events: list[OutgoingEvent] = []
    for report in sorted(reports, key=lambda r: r.occurred_at):
        deployment = deployments.get((report.incident_id, report.volunteer_id))
        if deployment is None or deployment.offer_id != report.offer_id:
            continue
        at = report.occurred_at
        if deployment.last_fix_at is not None and at <= deployment.last_fix_at:
            continue
        before = FieldStatus(deployment.status)
        after = said_status(before, report.status)
        changed = after is not before and after is not FieldStatus.EN_ROUTE
        await session.execute(
            _SAID,
            {
                "status": after.value,
                "said": report.status.value,
                "at": at,
                "arrived": changed and after is FieldStatus.ON_SCENE,
                "left": changed and after is FieldStatus.LEFT_AREA,
                "incident": deployment.incident_id,
                "volunteer": deployment.volunteer_id,
            },
        )
        deployments[(report.incident_id, report.volunteer_id)] = replace(
            deployment, status=after.value, last_fix_at=at
        )
        if changed:
            event = _event(deployment, after, at, None)
            events.append(OutgoingEvent(topics.TRACKING, str(deployment.incident_id), event))
    return events


def _event(
    deployment: _Deployment, status: FieldStatus, at: datetime, reading: Reading | None
) -> VolunteerArrived | VolunteerLeftArea:
    """The event for a status reached at `at`: shown by a fix (`reading`), or said (None)."""
    incident, volunteer = deployment.incident_id, deployment.volunteer_id
    offer, role = deployment.offer_id, Role(deployment.role)
    distance = round(reading.to_meeting_point_m) if reading is not None else None
    said = reading is None
    if status is FieldStatus.ON_SCENE:
        return VolunteerArrived(
            incident_id=incident,
            volunteer_id=volunteer,
            offer_id=offer,
            role=role,
            distance_m=distance,
            arrived_at=at,
            reported=said,
        )
    return VolunteerLeftArea(
        incident_id=incident,
        volunteer_id=volunteer,
        offer_id=offer,
        role=role,
        distance_m=distance,
        left_at=at,
        reported=said,
    )


_THIN = text(
    """
    WITH due AS (
        -- Off the index on recorded_at: only points past keeping are read, not every raw point
        -- (a grouping of the whole table each hour).
        SELECT DISTINCT incident_id, volunteer_id FROM track_points WHERE recorded_at < :cutoff
    ), done AS (
        SELECT incident_id, volunteer_id FROM due
        WHERE NOT EXISTS (
            SELECT 1 FROM track_points newer
            WHERE newer.incident_id = due.incident_id AND newer.volunteer_id = due.volunteer_id
              AND newer.recorded_at >= :cutoff
        )
        LIMIT :limit
    ), lines AS (
        INSERT INTO deployment_tracks (incident_id, volunteer_id, track, points, first_at, last_at)
        SELECT t.incident_id, t.volunteer_id,
               CAST(ST_Simplify(ST_MakeLine(
                   CASE WHEN count(*) = 1 THEN ARRAY[min(t.location::geometry), min(t.location::geometry)]
                        ELSE array_agg(t.location::geometry ORDER BY t.recorded_at) END
               ), :tolerance_deg, true) AS geography),
               count(*), min(t.recorded_at), max(t.recorded_at)
        FROM track_points t JOIN done USING (incident_id, volunteer_id)
        GROUP BY t.incident_id, t.volunteer_id
        ON CONFLICT (incident_id, volunteer_id) DO NOTHING
        RETURNING incident_id, volunteer_id
    )
    DELETE FROM track_points t USING done
    WHERE t.incident_id = done.incident_id AND t.volunteer_id = done.volunteer_id
    """
)
# ~10 m: a track stays true to the streets it followed.
THIN_TOLERANCE_DEG = 0.0001


async def thin_before(session: AsyncSession, cutoff: datetime, *, limit: int = 500) -> int:
    """Deployments whose every raw point is older than `cutoff` become one simplified line each,
    and their points are deleted; how many points went."""
    result = await session.execute(
        _THIN, {"cutoff": cutoff, "limit": limit, "tolerance_deg": THIN_TOLERANCE_DEG}
    )
    return int(getattr(result, "rowcount", 0) or 0)
