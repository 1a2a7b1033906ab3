"""The live feed in one API process: one Redis subscription, fanned out to every browser's stream.

The tracker publishes a `LiveChange` per incident and mobilisation event (`shared.live`). Here one
task reads the channel and hands each change to the streams whose caller may hear of it
(`may_hear`, pure): everyone hears that an incident opened, changed or ended (the public map reads
what it may see of it); only the operators of its regions hear of its group. A stream that falls
behind (a browser that does not read) loses its backlog and is told to read everything again
(`RESYNC`) rather than holding the process's memory; so is every stream after Redis came back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final
from uuid import UUID

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.api.auth.principals import Principal, may_operate
from shared.live import CHANNEL, Audience, LiveChange

log = logging.getLogger(__name__)


class _Resync:
    """Read everything again: changes were lost (a slow reader, Redis gone for a while)."""


RESYNC: Final = _Resync()
Item = LiveChange | _Resync


def may_hear(principal: Principal | None, change: LiveChange, regions: Iterable[str]) -> bool:
    """Whether a caller's stream carries `change` (about an incident touching `regions`)."""
    if change.audience is Audience.PUBLIC:
        return True
    return may_operate(principal, regions)


@dataclass(eq=False)
class Listener:
    """One browser's stream."""

    principal: Principal | None
    queue: asyncio.Queue[Item] = field(default_factory=lambda: asyncio.Queue(maxsize=256))

    def offer(self, item: Item) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Behind by a whole queue: drop the backlog, tell the browser to read afresh.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)


_POLL_S: Final = 1.0
"""How long one read of the channel waits before the reader looks whether it should stop."""

RegionsOf = Callable[[UUID], Awaitable[Iterable[str]]]


class LiveHub:
    def __init__(
        self, redis: Redis, regions_of: RegionsOf, *, remember: int = 10_000, retry_s: float = 1.0
    ) -> None:
        self.redis = redis
        self.regions_of = regions_of
        self.listeners: set[Listener] = set()
        self.retry_s = retry_s
        self._remember = remember
        self._regions: OrderedDict[UUID, tuple[str, ...]] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.subscribed = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-feed")

    async def stop(self) -> None:
        # The reader polls and sees `_stopping` within a second: a bare cancel is not enough, as
        # redis-py's pub/sub read can swallow a cancellation and wait on for the next message.
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout=_POLL_S * 3)

    @contextlib.contextmanager
    def listen(self, principal: Principal | None) -> Iterator[Listener]:
        listener = Listener(principal)
        self.listeners.add(listener)
        try:
            yield listener
        finally:
            self.listeners.discard(listener)

    async def _run(self) -> None:
        lost = False
        while not self._stopping:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self.subscribed.set()
                    if lost:
                        self._tell_everyone(RESYNC)
                        lost = False
                    while not self._stopping:
                        message = await pubsub.get_message(timeout=_POLL_S)
                        if message is not None:
                            await self.deliver(message["data"])
            except (RedisError, OSError) as error:
                self.subscribed.clear()
                lost = True
                log.warning(
                    "live feed: Redis unavailable (%s); again in %.1f s", error, self.retry_s
                )
                await asyncio.sleep(self.retry_s)

    async def deliver(self, data: bytes | str) -> int:
        """Hand one published change to the streams that may hear of it; how many did."""
        try:
            change = LiveChange.model_validate_json(data)
        except ValidationError as error:
            log.warning("live feed: not a change, skipped (%s)", error.errors()[:1])
            return 0
        if not self.listeners:
            return 0
        regions = await self._regions_of(change)
        heard = 0
        for listener in tuple(self.listeners):
            if may_hear(listener.principal, change, regions):
                listener.offer(change)
                heard += 1
        return heard

    def _tell_everyone(self, item: Item) -> None:
        for listener in tuple(self.listeners):
            listener.offer(item)

    async def _regions_of(self, change: LiveChange) -> tuple[str, ...]:
        if change.audience is Audience.PUBLIC:
            # The incident changed, perhaps its area: its regions are read again when needed.
            self._regions.pop(change.incident_id, None)
            return change.region_codes or ()
        known = self._regions.get(change.incident_id)
        if known is None:
            try:
                known = tuple(await self.regions_of(change.incident_id))
            except Exception:
                log.warning("live feed: no regions for incident %s", change.incident_id)
                return ()
            self._regions[change.incident_id] = known
            if len(self._regions) > self._remember:
                self._regions.popitem(last=False)
        return known
