"""Rate limits in Redis: a fixed window per key (`INCR` + `EXPIRE`), shared by every API process."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

PREFIX = "jedel:limit:"


@dataclass(frozen=True)
class Limit:
    """At most `count` per `window_s` seconds."""

    count: int
    window_s: int


class TooManyAttempts(Exception):  # noqa: N818 - a refusal, not a failure
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many attempts; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


async def spend(redis: Redis, key: str, limit: Limit) -> None:
    """Count one attempt against `key`; raise `TooManyAttempts` once the window is used up."""
    name = PREFIX + key
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(name)
        pipe.expire(name, limit.window_s, nx=True)
        pipe.ttl(name)
        used, _, ttl = await pipe.execute()
    if int(used) > limit.count:
        raise TooManyAttempts(max(int(ttl), 1))
