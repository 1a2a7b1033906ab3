"""Live positions of volunteers in Redis: the tracker writes them, matching reads them.

Two keys: a GEO set (member = volunteer id) for "who is near this point", and a sorted set of the
same members scored by when the fix was taken, for freshness and for forgetting. Only a newer fix
replaces an older one (a Lua script decides, atomically), so replays and reordering do no harm.
How fresh is fresh enough is the reader's rule, not this module's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from redis.asyncio import Redis

# Keep each fix unless a newer one of its volunteer is kept: ARGV is (member, lon, lat, taken at)
# after each other; returns how many were kept. One command for a batch, not one script call per
# fix (at 6,400 fixes/s the tracker spent most of its time packing and answering those).
_RECORD_MANY = """
local kept = 0
for i = 1, #ARGV, 4 do
  local old = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if not old or tonumber(old) < tonumber(ARGV[i + 3]) then
    redis.call('GEOADD', KEYS[1], ARGV[i + 1], ARGV[i + 2], ARGV[i])
    redis.call('ZADD', KEYS[2], ARGV[i + 3], ARGV[i])
    kept = kept + 1
  end
end
return kept
"""
# Fixes per `_RECORD_MANY` call (a batch may hold more).
_RECORD_BATCH = 1000

# The fixes of those members that have one, as flat (member, lon, lat, taken at) strings: most
# people a wave looks at have none, and answering only for the others spares the client from
# parsing hundreds of empty replies.
_FIXES_OF = """
local found = {}
for i = 1, #ARGV do
  local at = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if at then
    local place = redis.call('GEOPOS', KEYS[1], ARGV[i])[1]
    if place then
      found[#found + 1] = ARGV[i]
      found[#found + 1] = place[1]
      found[#found + 1] = place[2]
      found[#found + 1] = at
    end
  end
end
return found
"""
# Members per script call: far below what one Lua call can unpack.
_FIXES_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Fix:
    """Where a volunteer's phone was, and when."""

    volunteer_id: UUID
    longitude: float
    latitude: float
    recorded_at: datetime
    accuracy_m: float | None = None


@dataclass(frozen=True, slots=True)
class LivePosition:
    longitude: float
    latitude: float
    recorded_at: datetime


class LivePositions:
    def __init__(self, redis: Redis, *, prefix: str = "jedel:positions") -> None:
        self.redis = redis
        self.geo_key = prefix
        self.at_key = f"{prefix}:at"
        self._record_many = redis.register_script(_RECORD_MANY)
        self._fixes_of = redis.register_script(_FIXES_OF)

    async def record(
        self, volunteer_id: UUID, *, longitude: float, latitude: float, recorded_at: datetime
    ) -> bool:
        """Keep the fix unless a newer one is already kept; True when it was kept."""
        kept = await self._record_many(
            keys=[self.geo_key, self.at_key],
            args=[str(volunteer_id), longitude, latitude, recorded_at.timestamp()],
        )
        return bool(kept)

    async def record_many(self, fixes: Sequence[Fix]) -> int:
        """`record` for many fixes, a thousand to a script call; only each volunteer's newest fix
        of the lot is sent (an older one could change nothing). How many were kept."""
        newest: dict[UUID, Fix] = {}
        for fix in fixes:
            known = newest.get(fix.volunteer_id)
            if known is None or fix.recorded_at > known.recorded_at:
                newest[fix.volunteer_id] = fix
        if not newest:
            return 0
        fixes = list(newest.values())
        kept = 0
        for start in range(0, len(fixes), _RECORD_BATCH):
            args: list[str | float] = []
            for fix in fixes[start : start + _RECORD_BATCH]:
                args += (
                    str(fix.volunteer_id),
                    fix.longitude,
                    fix.latitude,
                    fix.recorded_at.timestamp(),
                )
            kept += int(await self._record_many(keys=[self.geo_key, self.at_key], args=args))
        return kept

    async def of(self, volunteers: Sequence[UUID]) -> dict[UUID, LivePosition]:
        """The kept fix of each volunteer who has one (one round trip per thousand asked)."""
        by_member = {str(volunteer): volunteer for volunteer in volunteers}
        members = list(by_member)
        fixes: dict[UUID, LivePosition] = {}
        for start in range(0, len(members), _FIXES_BATCH):
            found = await self._fixes_of(
                keys=[self.geo_key, self.at_key], args=members[start : start + _FIXES_BATCH]
            )
            for index in range(0, len(found), 4):
                member, lon, lat, at = found[index : index + 4]
                fixes[by_member[_text(member)]] = LivePosition(
                    float(lon), float(lat), datetime.fromtimestamp(float(at), UTC)
                )
        return fixes

    async def near(
        self, longitude: float, latitude: float, radius_m: float, *, since: datetime, count: int
    ) -> list[UUID]:
        """Up to `count` volunteers whose fix, taken at `since` or later, lies within `radius_m`,
        nearest first."""
        found = await self.redis.geosearch(
            self.geo_key,
            longitude=longitude,
            latitude=latitude,
            radius=radius_m,
            unit="m",
            sort="ASC",
            count=count,
        )
        members = [_text(member) for member in found]
        if not members:
            return []
        stamps = await self.redis.zmscore(self.at_key, members)
        cutoff = since.timestamp()
        return [
            UUID(member)
            for member, stamp in zip(members, stamps, strict=True)
            if stamp is not None and stamp >= cutoff
        ]

    async def forget_before(self, cutoff: datetime, *, batch: int = 1000) -> int:
        """Drop fixes taken before `cutoff`; returns how many."""
        forgotten = 0
        while True:
            stale = await self.redis.zrangebyscore(
                self.at_key, "-inf", f"({cutoff.timestamp()}", start=0, num=batch
            )
            if not stale:
                return forgotten
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrem(self.geo_key, *stale)  # a GEO set is a sorted set
                pipe.zrem(self.at_key, *stale)
                await pipe.execute()
            forgotten += len(stale)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
