"""Who could be asked: for each open role, the nearest holders of a fitting certificate.

The database does the coarse, index-backed part: for every certificate type the wave's roles
accept, the nearest holders (certificate valid, or lapsed within the last year) straight off that
type's own GiST index over the holders' homes (migration 0007) — an index-ordered scan that stops
after `limit` rows however many people live nearby — and every per-volunteer fact joined
laterally, in one round trip per wave, on the session's asyncpg connection (SQLAlchemy's
per-value processing of hundreds of rows would cost more than the query).
`eligibility.assess` does the fine part in Python so every "no" has a reason to show.

The lists are the nearest people whatever the radius: a wave that widens its radius only looks
further down them (`CandidatePool.within`), it does not ask the database again.

Where a volunteer is now counts more than where they live: people whose phone reported a fresh
position near the incident (`shared.positions`, kept by the tracker) join the list whatever their
home, and everyone's distance is measured from their fresh position when there is one. Without
Redis, matching carries on from homes.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from services.mobilizer.eligibility import Candidate, Certificate
from services.mobilizer.ranking import LIVE_POSITION_MAX_AGE, geodesic_distances_m, position_of
from shared.db import driver_connection
from shared.events.volunteers import Availability, CertificationType, Role, TransportMode
from shared.positions import LivePositions

# Certificates that lapsed within this window still bring their holder into view, so the
# dispatcher sees "first aid expired on 3 March" rather than nothing.
EXPIRED_WINDOW_DAYS = 365
# At most this many people are brought in by their live position (the nearest first).
LIVE_NEAR_LIMIT = 500

T = TypeVar("T")
log = logging.getLogger(__name__)

# $1 lon, $2 lat, $3 the oldest expiry still in view, $4 asked, $5 live, $6 now, $7 types; then one
# limit per type. Each type's nearest holders come off its own partial GiST index (migration 0007),
# which the planner only matches when the type is a literal in the statement.
_NEAREST_OF_TYPE = """
    (SELECT c.volunteer_id AS id, '{kind}'::text AS kind
     FROM certifications c
     WHERE c.type = '{kind}' AND c.expires_on > $3::date AND c.volunteer_id <> ALL($4::uuid[])
     ORDER BY c.home <-> ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326)::geography
     LIMIT ${limit}::integer)"""
_NEAREST = """
    WITH scanned AS (
        {nearest}
        UNION ALL
        -- People whose phone is near now, wherever they live.
        SELECT c.volunteer_id, NULL
        FROM certifications c
        WHERE c.volunteer_id = ANY($5::uuid[])
          AND c.type = ANY($7::text[])
          AND c.expires_on > $3::date
          AND c.volunteer_id <> ALL($4::uuid[])
    ), near AS (
        -- Each person once, with the types whose scans found them (one entry per row a scan
        -- returned: how many each returned tells whether it ran out of holders).
        SELECT id, array_agg(kind) AS scanned FROM scanned GROUP BY id
    )
    SELECT v.id, near.scanned, v.birth_date, v.availability, v.transport_mode, v.region_code, v.phone,
           v.languages, v.quiet_hours_start, v.quiet_hours_end,
           ST_X(v.home::geometry) AS lon, ST_Y(v.home::geometry) AS lat,
           certs.types AS certificate_types, certs.issued AS certificates_issued,
           certs.expires AS certificates_expire, grp.role AS group_role, grp.on_call,
           open.incident_id AS committed_incident_id,
           stats.offers_total, stats.accepts_total, stats.callouts_24h, stats.callouts_7d,
           stats.offers_24h, stats.offers_7d,
           last.released_at AS last_deployment_ended_at, last.hours AS last_deployment_hours
    FROM near
    JOIN volunteers v ON v.id = near.id
    LEFT JOIN LATERAL (
        -- Arrays, not JSON: the driver decodes them natively, hundreds of rows a wave.
        SELECT array_agg(c.type) AS types, array_agg(c.issued_on) AS issued,
               array_agg(c.expires_on) AS expires
        FROM certifications c WHERE c.volunteer_id = near.id
    ) certs ON true
    LEFT JOIN (
        -- Standing groups are small: one hash of all their seats beats a probe per person.
        SELECT DISTINCT ON (m.volunteer_id) m.volunteer_id, m.role, m.on_call
        FROM mobile_group_members m
        ORDER BY m.volunteer_id, m.on_call DESC
    ) grp ON grp.volunteer_id = near.id
    LEFT JOIN LATERAL (
        SELECT k.incident_id FROM commitments k
        WHERE k.volunteer_id = near.id AND k.released_at IS NULL
    ) open ON true
    LEFT JOIN LATERAL (
        SELECT count(*) AS offers_total,
               count(*) FILTER (WHERE o.status = 'accepted') AS accepts_total,
               count(*) FILTER (WHERE o.status = 'accepted'
                                  AND o.offered_at > $6::timestamptz - interval '1 day') AS callouts_24h,
               count(*) FILTER (WHERE o.status = 'accepted'
                                  AND o.offered_at > $6::timestamptz - interval '7 days') AS callouts_7d,
               count(*) FILTER (WHERE o.offered_at > $6::timestamptz - interval '1 day') AS offers_24h,
               count(*) FILTER (WHERE o.offered_at > $6::timestamptz - interval '7 days') AS offers_7d
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


# The same facts of named people (a dispatcher asks one by name): $1 their ids, $2 now.
_NAMED = "WITH near AS (SELECT unnest($1::uuid[]) AS id, NULL::text[] AS scanned)\n" + _NEAREST[
    _NEAREST.index("    SELECT v.id") :
].replace("$6::timestamptz", "$2::timestamptz")


async def named_candidates(
    session: AsyncSession, volunteer_ids: Sequence[UUID], *, now: datetime
) -> list[Candidate]:
    """These volunteers with every fact eligibility reads (not inactive ones)."""
    driver = await driver_connection(session)
    rows = await driver.fetch(_NAMED, list(volunteer_ids), now)
    return [candidate_from(row) for row in rows if row["availability"] != _INACTIVE]


@functools.lru_cache(maxsize=128)
def nearest_statement(types: tuple[CertificationType, ...]) -> str:
    """The candidate query for these certificate types (one statement per set, prepared once)."""
    nearest = "\n        UNION\n".join(
        _NEAREST_OF_TYPE.format(kind=CertificationType(kind).value, limit=8 + index)
        for index, kind in enumerate(types)
    )
    return _NEAREST.format(nearest=nearest)


@dataclass(frozen=True, slots=True)
class Nearby:
    candidate: Candidate
    distance_m: float
    """Geodesic, from their fresh live position if there is one, else from home."""


@dataclass
class CandidatePool:
    """Each role's nearest possible people, nearest first, at most `limit` per role."""

    by_role: dict[Role, list[Nearby]] = field(default_factory=dict)
    exhausted: frozenset[CertificationType] = frozenset()
    """Types whose scans found fewer holders than they looked for: nobody else holds one."""

    def saw_everyone(self, kinds: Iterable[CertificationType]) -> bool:
        """Whether every holder of these types was found: a short list then proves a shortage,
        while one thinned by people who stopped volunteering (or by two certificates of one
        holder) does not."""
        return all(kind in self.exhausted for kind in kinds)

    def within(self, role: Role, radius_m: float) -> list[Nearby]:
        return [n for n in self.by_role.get(role, ()) if n.distance_m <= radius_m]

    def beyond(self, roles: Iterable[Role], radius_m: float, max_radius_m: float) -> bool:
        """Whether a wider radius, up to `max_radius_m`, would bring anyone more for `roles`."""
        return any(
            radius_m < n.distance_m <= max_radius_m
            for role in roles
            for n in self.by_role.get(role, ())
        )


async def nearest_candidates(
    session: AsyncSession,
    *,
    lon: float,
    lat: float,
    roles: Mapping[Role, Sequence[CertificationType]],
    asked: Iterable[UUID],
    day: date,
    now: datetime,
    limit: int | Mapping[Role, int],
    positions: LivePositions | None = None,
    live_within_m: float = 0,
) -> CandidatePool:
    """For each role, the `limit` nearest volunteers (one number, or one per role) holding a
    certificate of one of its types (valid on `day` or lapsed recently), not inactive and not among
    `asked`; with `positions`, also those whose fresh fix lies within `live_within_m`."""
    limits = {role: limit if isinstance(limit, int) else limit[role] for role in roles}
    per_type: dict[CertificationType, int] = {}
    for role, kinds in roles.items():
        for kind in kinds:
            per_type[kind] = max(per_type.get(kind, 0), limits[role])
    types = tuple(sorted(per_type))
    if not types:
        return CandidatePool({role: [] for role in roles}, frozenset())
    fresh_since = now - LIVE_POSITION_MAX_AGE
    live: list[UUID] = []
    if positions is not None and live_within_m > 0:
        live = await _quietly(
            positions.near(lon, lat, live_within_m, since=fresh_since, count=LIVE_NEAR_LIMIT), []
        )
    driver = await driver_connection(session)
    in_view = day - timedelta(days=EXPIRED_WINDOW_DAYS)
    # The plan prepared once for every wave: the same per-type index scans as a plan made for
    # each wave's values, without ~2.5 ms of planning a wave (a fifth of the query's CPU). Left to
    # itself PostgreSQL keeps planning afresh, as it cannot tell what LIMIT $n will be. Not reset
    # (a round trip a wave): what a transaction does after this query is write rows by their keys.
    await driver.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    rows = await driver.fetch(
        nearest_statement(types),
        lon,
        lat,
        in_view,
        list(asked),
        live,
        now,
        [kind.value for kind in types],
        *(per_type[kind] for kind in types),
    )
    returned: Counter[str] = Counter(kind for row in rows for kind in row["scanned"] if kind)
    exhausted = frozenset(kind for kind in types if returned[kind.value] < per_type[kind])
    found = [candidate_from(row) for row in rows if row["availability"] != _INACTIVE]
    if positions is not None:
        fixes = await _quietly(positions.of([c.volunteer_id for c in found]), {})
        found = [
            replace(c, live_lon=fix.longitude, live_lat=fix.latitude, live_at=fix.recorded_at)
            if (fix := fixes.get(c.volunteer_id)) and fix.recorded_at >= fresh_since
            else c
            for c in found
        ]
    origins = [position_of(candidate, now=now) for candidate in found]
    distances = geodesic_distances_m(origins, lon, lat)
    people = sorted(
        (Nearby(candidate, distance) for candidate, distance in zip(found, distances, strict=True)),
        key=lambda nearby: nearby.distance_m,
    )
    held = [
        frozenset(c.type for c in nearby.candidate.certificates if c.expires_on > in_view)
        for nearby in people
    ]
    return CandidatePool(
        {
            role: [nearby for nearby, types in zip(people, held, strict=True) if types & kinds][
                : limits[role]
            ]
            for role, kinds in ((role, frozenset(kinds)) for role, kinds in roles.items())
        },
        exhausted,
    )


async def _quietly(lookup: Awaitable[T], fallback: T) -> T:
    """A live-position lookup, or `fallback` when Redis is away: homes will do."""
    try:
        return await lookup
    except RedisError:
        log.warning("live positions unavailable; matching from homes", exc_info=True)
        return fallback


# Enum lookups by value, without the enum machinery's per-call cost (hundreds of rows a wave).
_CERTIFICATION_TYPES = {kind.value: kind for kind in CertificationType}
_AVAILABILITIES = {state.value: state for state in Availability}
_TRANSPORT_MODES = {mode.value: mode for mode in TransportMode}
_ROLES = {role.value: role for role in Role}
# Read with everyone else (a scan counts them), never asked: `person_findings` says so too.
_INACTIVE = Availability.INACTIVE.value


def candidate_from(row: Any) -> Candidate:
    # Positional, in the order of Candidate's fields: keyword arguments cost more than the rest of
    # the work here, for hundreds of rows a wave.
    hours = row["last_deployment_hours"]
    return Candidate(
        row["id"],
        row["birth_date"],
        _AVAILABILITIES[row["availability"]],
        _TRANSPORT_MODES[row["transport_mode"]],
        row["lon"],
        row["lat"],
        row["region_code"],
        row["phone"],
        tuple(row["languages"] or ()),
        row["quiet_hours_start"],
        row["quiet_hours_end"],
        None,
        None,
        None,
        tuple(
            Certificate(_CERTIFICATION_TYPES[kind], issued, expires)
            for kind, issued, expires in zip(
                row["certificate_types"] or (),
                row["certificates_issued"] or (),
                row["certificates_expire"] or (),
                strict=True,
            )
        ),
        _ROLES[row["group_role"]] if row["group_role"] else None,
        bool(row["on_call"]),
        row["committed_incident_id"],
        row["callouts_24h"] or 0,
        row["callouts_7d"] or 0,
        row["last_deployment_ended_at"],
        float(hours) if hours is not None else None,
        row["offers_total"] or 0,
        row["accepts_total"] or 0,
        row["offers_24h"] or 0,
        row["offers_7d"] or 0,
    )
