"""The standing mobile groups a dispatcher may call on for an incident: their own region's and
those of the regions bordering it (roadmap 2.3.2: regional groups that help each other).

Read for the console, where a dispatcher asks members by name (`POST …/mobilization/ask`). The
regions' borders do not change while Jedel runs: which regions border which is computed once per
process (`neighbours`, 5 km of slack: the boundaries are simplified and do not meet exactly).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.mobilization import OfferStatus

BORDER_SLACK_M = 5_000

_NEIGHBOURS = text(
    """
    SELECT a.code AS region, b.code AS neighbour
    FROM regions a JOIN regions b
      ON a.code <> b.code AND ST_DWithin(a.boundary, b.boundary, :slack)
    """
)
_MEMBERS = text(
    """
    SELECT g.id AS group_id, g.name AS group_name, g.region_code, g.is_pilot,
           m.volunteer_id, v.full_name AS name, m.role, m.on_call,
           round(ST_Distance(v.home, z.center))::int AS distance_m, o.status AS offer_status
    FROM mobilizations z
    JOIN mobile_groups g ON g.region_code = ANY(CAST(:regions AS text[]))
    JOIN mobile_group_members m ON m.group_id = g.id
    JOIN volunteers v ON v.id = m.volunteer_id AND v.availability <> 'inactive'
    LEFT JOIN offers o ON o.incident_id = z.incident_id AND o.volunteer_id = m.volunteer_id
    WHERE z.incident_id = :incident
    ORDER BY g.region_code, g.name, m.role, distance_m
    """
)

_neighbours: dict[str, frozenset[str]] | None = None


async def neighbours(session: AsyncSession) -> dict[str, frozenset[str]]:
    """Each region's bordering regions (computed once per process)."""
    global _neighbours
    if _neighbours is None:
        found: dict[str, set[str]] = {}
        for row in await session.execute(_NEIGHBOURS, {"slack": BORDER_SLACK_M}):
            found.setdefault(row.region, set()).add(row.neighbour)
        _neighbours = {region: frozenset(codes) for region, codes in found.items()}
    return _neighbours


@dataclass(frozen=True, slots=True)
class StandingMember:
    volunteer_id: UUID
    name: str
    role: str
    on_call: bool
    distance_m: int
    offer_status: OfferStatus | None  # asked already in this incident, and how it stands


@dataclass(frozen=True, slots=True)
class StandingGroup:
    group_id: UUID
    name: str
    region_code: str
    is_pilot: bool
    own_region: bool
    members: list[StandingMember]


def regions_to_ask(own: str, bordering: frozenset[str]) -> list[str]:
    """The group's own region first, then its neighbours in code order."""
    return [own, *sorted(bordering - {own})]


async def standing_groups(
    session: AsyncSession, incident_id: UUID, region_code: str
) -> list[StandingGroup]:
    """The standing groups of `region_code` and its neighbours, own region first, each with its
    members (not inactive), nearest to the incident first within a role."""
    regions = regions_to_ask(region_code, (await neighbours(session)).get(region_code, frozenset()))
    groups: dict[UUID, StandingGroup] = {}
    for row in await session.execute(_MEMBERS, {"regions": regions, "incident": incident_id}):
        group = groups.get(row.group_id)
        if group is None:
            group = groups[row.group_id] = StandingGroup(
                group_id=row.group_id,
                name=row.group_name,
                region_code=row.region_code,
                is_pilot=row.is_pilot,
                own_region=row.region_code == region_code,
                members=[],
            )
        group.members.append(
            StandingMember(
                volunteer_id=row.volunteer_id,
                name=row.name,
                role=row.role,
                on_call=row.on_call,
                distance_m=row.distance_m,
                offer_status=OfferStatus(row.offer_status) if row.offer_status else None,
            )
        )
    order = {code: position for position, code in enumerate(regions)}
    return sorted(groups.values(), key=lambda g: (order[g.region_code], g.name))
