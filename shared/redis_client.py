"""Redis clients that never wait long: a Redis that stops answering must not hold anything up."""

from __future__ import annotations

from redis.asyncio import Redis

from shared.settings import RedisSettings


def connect_redis(settings: RedisSettings, *, timeout_s: float | None = None) -> Redis:
    """A client for `settings.url` whose socket and connect waits are `timeout_s` (at most the
    configured `timeout_s`); connections are made on first use."""
    wait_s = settings.timeout_s if timeout_s is None else min(timeout_s, settings.timeout_s)
    return Redis.from_url(settings.url, socket_timeout=wait_s, socket_connect_timeout=wait_s)
