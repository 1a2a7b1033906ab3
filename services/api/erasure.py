"""A person's data erased on request, without breaking the append-only registry.

The activity log names people by id only (`services.registry.redaction`), so erasing is done on
the rows that hold who they are: the volunteer's row is pseudonymised (name, phone, birth date,
home, organisation replaced; marked inactive so nobody calls them out again), their certificates,
standing-group places, account and sessions deleted, the phone on their past offers replaced, their
tracks (raw points and thinned lines) deleted, and their live position and in-app inbox dropped
from Redis. What remains is an id with a history of
deployments — enough for the registry's counts, nothing that points back to the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.positions import LivePositions

ERASED_NAME = "—"
INBOX_PREFIX = "jedel:inbox:"  # the notifier's default (`NotifierOptions.inbox_key_prefix`)


# ITU-T E.164 keeps country code 999 spare: no phone anywhere has it, so a stand-in under it
# reaches nobody, and still passes `volunteers.phone`'s E.164 check.
SPARE_COUNTRY_CODE = "999"


def pseudonymous_phone(volunteer_id: UUID) -> str:
    """A unique stand-in that is no one's number (`volunteers.phone` is unique)."""
    return f"+{SPARE_COUNTRY_CODE}{volunteer_id.int % 10**12:012d}"


@dataclass(frozen=True)
class Erased:
    volunteer_id: UUID
    certificates: int
    offers: int
    accounts: int
    track_points: int


async def erase_volunteer(session: AsyncSession, volunteer_id: UUID) -> Erased | None:
    """Pseudonymise the volunteer in the database (the caller commits); None if unknown."""
    found = await session.execute(
        text(
            """
            UPDATE volunteers v SET
                full_name = :name, phone = :phone, birth_date = DATE '1900-01-01',
                organisation = NULL, availability = 'inactive',
                quiet_hours_start = NULL, quiet_hours_end = NULL,
                home = (SELECT ST_PointOnSurface(r.boundary::geometry)::geography
                        FROM regions r WHERE r.code = v.region_code)
            WHERE v.id = :id
            RETURNING v.id
            """
        ),
        {"id": volunteer_id, "name": ERASED_NAME, "phone": pseudonymous_phone(volunteer_id)},
    )
    if found.first() is None:
        return None
    params = {"id": volunteer_id}
    certificates = await session.execute(
        text("DELETE FROM certifications WHERE volunteer_id = :id"), params
    )
    await session.execute(text("DELETE FROM mobile_group_members WHERE volunteer_id = :id"), params)
    offers = await session.execute(
        text("UPDATE offers SET contact_phone = :phone WHERE volunteer_id = :id"),
        {**params, "phone": pseudonymous_phone(volunteer_id)},
    )
    accounts = await session.execute(text("DELETE FROM accounts WHERE volunteer_id = :id"), params)
    # Where they went is theirs: the tracks go; the deployments (incident, role, times) stay.
    points = await session.execute(
        text("DELETE FROM track_points WHERE volunteer_id = :id"), params
    )
    await session.execute(text("DELETE FROM deployment_tracks WHERE volunteer_id = :id"), params)
    return Erased(
        volunteer_id=volunteer_id,
        certificates=_count(certificates),
        offers=_count(offers),
        accounts=_count(accounts),
        track_points=_count(points),
    )


async def forget_live_data(redis: Redis, volunteer_id: UUID) -> None:
    """Their newest position and their in-app inbox, gone from Redis."""
    positions = LivePositions(redis)
    member = str(volunteer_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(positions.geo_key, member)
        pipe.zrem(positions.at_key, member)
        pipe.delete(f"{INBOX_PREFIX}{volunteer_id}")
        await pipe.execute()


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
