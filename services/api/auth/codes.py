"""One-time sign-in codes for volunteers: six digits, sent to the phone, valid a few minutes,
single use, a few tries. Redis keeps only an HMAC of the code, under an HMAC of the phone."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from redis.asyncio import Redis

PREFIX = "jedel:code:"
DIGITS = 6


def _key(secret: str, phone: str) -> str:
    digest = hmac.new(secret.encode(), b"phone\x00" + phone.encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:32]


def _seal(secret: str, phone: str, code: str) -> str:
    message = b"code\x00" + phone.encode() + b"\x00" + code.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


async def remember(redis: Redis, *, secret: str, phone: str, code: str, ttl_s: int) -> None:
    """Keep the code for `phone` (replacing an earlier one, whose tries start again)."""
    key = _key(secret, phone)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping={"seal": _seal(secret, phone, code), "tries": 0})
        pipe.expire(key, ttl_s)
        await pipe.execute()


async def redeem(redis: Redis, *, secret: str, phone: str, code: str, max_tries: int) -> bool:
    """Whether `code` is the one sent to `phone`; a right code works once, and after `max_tries`
    wrong ones the code is gone."""
    key = _key(secret, phone)
    tries = await redis.hincrby(key, "tries", 1)
    seal = await redis.hget(key, "seal")
    if seal is None:
        await redis.delete(key)  # the increment made a hash of a code never sent (or gone)
        return False
    if tries > max_tries:
        await redis.delete(key)
        return False
    stored = seal.decode() if isinstance(seal, bytes) else str(seal)
    if not hmac.compare_digest(stored, _seal(secret, phone, code)):
        return False
    # Two requests with the right code at once: only the one that deletes it signs in.
    return bool(await redis.delete(key))
