"""Who could be asked: the nearest volunteers holding a fitting certificate, as plain values.

The database does the coarse, index-backed part (a certificate of the role's types, valid or lapsed
within the last year, within the radius, nearest first over the GiST index); `eligibility.assess`
does the fine part in Python so every "no" has a reason to show. One query per role, all per-volunteer facts joined laterally.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.mobilizer.eligibility import Candidate, Certificate
from shared.events.volunteers import Availability, CertificationType, Role, TransportMode

# Certificates that lapsed within this window still bring their holder into view, so the
# dispatcher sees "first aid expired on 3 March" rather than nothing.
EXPIRED_WINDOW_DAYS = 365

NEAREST = text(
    """
    WITH near AS (
        SELECT v.id, v.birth_date, v.availability, v.transport_mode, v.region_code, v.phone,
               v.languages, v.quiet_hours_start, v.quiet_hours_end,
               ST_X(v.home::geometry) AS lon, ST_Y(v.home::geometry) AS lat
        FROM volunteers v
        WHERE v.availability <> 'inactive'
          AND ST_DWithin(v.home, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius_m)
          AND v.id <> ALL(CAST(:asked AS uuid[]))
          AND EXISTS (
              SELECT 1 FROM certifications c
              WHERE c.volunteer_id = v.id AND c.type = ANY(CAST(:types AS text[]))
                AND c.expires_on > CAST(:day AS date) - CAST(:expired_window_days AS integer)
          )
        ORDER BY v.home <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography
        LIMIT :limit
    )
    SELECT near.*, certs.list AS certificates, grp.role AS group_role, grp.on_call,
           open.incident_id AS committed_incident_id,
           stats.offers_total, stats.accepts_total, stats.callouts_24h, stats.callouts_7d,
           last.released_at AS last_deployment_ended_at, last.hours AS last_deployment_hours
    FROM near
    LEFT JOIN LATERAL (
        SELECT json_agg(json_build_array(c.type, c.issued_on, c.expires_on)) AS list
        FROM certifications c WHERE c.volunteer_id = near.id
    ) certs ON true
    LEFT JOIN LATERAL (
        SELECT m.role, m.on_call FROM mobile_group_members m
        WHERE m.volunteer_id = near.id LIMIT 1
    ) grp ON true
    LEFT JOIN LATERAL (
        SELECT k.incident_id FROM commitments k
        WHERE k.volunteer_id = near.id AND k.released_at IS NULL
    ) open ON true
    LEFT JOIN LATERAL (
        SELECT count(*) AS offers_total,
               count(*) FILTER (WHERE o.status = 'accepted') AS accepts_total,
               count(*) FILTER (WHERE o.status = 'accepted'
                                  AND o.offered_at > CAST(:now AS timestamptz) - interval '1 day') AS callouts_24h,
               count(*) FILTER (WHERE o.status = 'accepted'
                                  AND o.offered_at > CAST(:now AS timestamptz) - interval '7 days') AS callouts_7d
        FROM offers o WHERE o.volunteer_id = near.id
    ) stats ON true
    LEFT JOIN LATERAL (
        SELECT k.released_at,
               extract(epoch FROM k.released_at - k.committed_at) / 3600.0 AS hours
        FROM commitments k
        WHERE k.volunteer_id = near.id AND k.released_at IS NOT NULL
        ORDER BY k.released_at DESC LIMIT 1
    ) last ON true
    """
)


async def nearest_candidates(
    session: AsyncSession,
    *,
    lon: float,
    lat: float,
    radius_m: int,
    certifications: Sequence[CertificationType],
    asked: Iterable[UUID],
    day: date,
    now: datetime,
    limit: int,
) -> list[Candidate]:
    """Up to `limit` volunteers within `radius_m` holding a certificate of one of the types
    (valid on `day` or lapsed recently), nearest first, not among `asked`."""
    rows = await session.execute(
        NEAREST,
        {
            "lon": lon,
            "lat": lat,
            "radius_m": radius_m,
            "asked": [str(volunteer) for volunteer in asked],
            "types": [certification.value for certification in certifications],
            "day": day,
            "expired_window_days": EXPIRED_WINDOW_DAYS,
            "now": now,
            "limit": limit,
        },
    )
    return [candidate_from(row._mapping) for row in rows]


def candidate_from(row: Any) -> Candidate:
    return Candidate(
        volunteer_id=row["id"],
        birth_date=row["birth_date"],
        availability=Availability(row["availability"]),
        transport_mode=TransportMode(row["transport_mode"]),
        home_lon=row["lon"],
        home_lat=row["lat"],
        region_code=row["region_code"],
        phone=row["phone"],
        languages=tuple(row["languages"] or ()),
        quiet_hours_start=row["quiet_hours_start"],
        quiet_hours_end=row["quiet_hours_end"],
        certificates=tuple(
            Certificate(
                CertificationType(kind), date.fromisoformat(issued), date.fromisoformat(expires)
            )
            for kind, issued, expires in row["certificates"] or ()
        ),
        group_role=Role(row["group_role"]) if row["group_role"] else None,
        on_call=bool(row["on_call"]),
        committed_incident_id=row["committed_incident_id"],
        callouts_24h=row["callouts_24h"] or 0,
        callouts_7d=row["callouts_7d"] or 0,
        last_deployment_ended_at=row["last_deployment_ended_at"],
        last_deployment_hours=float(row["last_deployment_hours"])
        if row["last_deployment_hours"] is not None
        else None,
        offers_total=row["offers_total"] or 0,
        accepts_total=row["accepts_total"] or 0,
    )
