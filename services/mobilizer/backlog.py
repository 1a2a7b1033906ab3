"""Work that can wait while the mobilizer has incidents or answers in hand.

A first wave's offers go out as soon as its transaction commits; why each person it looked at was
or was not asked (`record_explanations`, ~90 rows a wave) can wait, and so can the re-plans of
mobilisations already under way (every 30 s each). Under a burst of incidents, both ran between
and beside the first waves and made the last incidents' offers wait. `Workload` tells whether an
incident or answer is in hand; explanations wait in the `Backlog` until none has been for
`quiet_s` — or, under load that never lets up, until the oldest has waited `max_delay_s`. A
dispatcher opening the "why" list a second later finds it written. (Re-plans:
`MobilizerService.sweep`.)

If the process dies with explanations waiting, those waves have none until the next wave that
asks anyone explains everyone it looks at again (the offers themselves are committed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.mobilizer.dispatch import Unexplained, write_explanations
from shared.waits import wait_any, wait_or_stop

log = logging.getLogger(__name__)

QUIET_S = 0.1
MAX_DELAY_S = 2.0

Write = Callable[[Sequence[Unexplained]], Awaitable[None]]


def writer(sessionmaker: async_sessionmaker[AsyncSession]) -> Write:
    """Writes waves' explanations in one transaction; a failure loses only those (logged): the
    offers are out, and the next wave that asks anyone explains everyone it looks at again."""

    async def write(waves: Sequence[Unexplained]) -> None:
        try:
            async with sessionmaker() as session, session.begin():
                await write_explanations(session, waves)
        except Exception:
            log.exception(
                "could not write the explanations of %d first waves (incidents %s)",
                len(waves),
                ", ".join(str(wave.mobilization.incident_id) for wave in waves),
            )

    return write


def due(
    *, now: float, in_hand: int, last_busy: float, oldest: float, quiet_s: float, max_delay_s: float
) -> bool:
    """Whether waiting explanations (the oldest added at `oldest`) are written now: the
    mobilizer has nothing `in_hand` and has had nothing for `quiet_s` (the last ended at
    `last_busy`), or the oldest has waited `max_delay_s`."""
    return (not in_hand and now - last_busy >= quiet_s) or now - oldest >= max_delay_s


class Workload:
    """Whether the mobilizer has incidents or answers in hand, and since when not."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.in_hand = 0
        self.last_busy = 0.0
        """When the last one was settled (the clock's time)."""

    def lets(self, waiting_since: float, *, quiet_s: float, max_delay_s: float) -> bool:
        """Whether work waiting since `waiting_since` may run now (`due`)."""
        return due(
            now=self.clock(),
            in_hand=self.in_hand,
            last_busy=self.last_busy,
            oldest=waiting_since,
            quiet_s=quiet_s,
            max_delay_s=max_delay_s,
        )

    def has_work(self) -> bool:
        """Whether an incident or answer is in hand now."""
        return self.in_hand > 0

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """An incident or answer in hand: work that can wait waits."""
        self.in_hand += 1
        try:
            yield
        finally:
            self.in_hand -= 1
            self.last_busy = self.clock()


@dataclass
class Backlog:
    """Committed first waves whose explanations are not written yet."""

    write: Write
    workload: Workload
    quiet_s: float = QUIET_S
    max_delay_s: float = MAX_DELAY_S
    _waiting: list[Unexplained] = field(default_factory=list)
    _oldest: float = 0.0
    _added: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, waves: Sequence[Unexplained]) -> None:
        """Waves whose transactions have committed."""
        if not waves:
            return
        if not self._waiting:
            self._oldest = self.workload.clock()
        self._waiting.extend(waves)
        self._added.set()

    def __len__(self) -> int:
        return len(self._waiting)

    async def flush(self) -> None:
        """Write every waiting wave's explanations now."""
        waves, self._waiting = self._waiting, []
        self._added.clear()
        if waves:
            await self.write(waves)

    async def run(self, stop: asyncio.Event) -> None:
        """Write explanations as they come due until `stop`; then write what is left."""
        try:
            while not stop.is_set():
                if not self._waiting:
                    await wait_any(stop, self._added, 60.0)
                    continue
                workload = self.workload
                if workload.lets(self._oldest, quiet_s=self.quiet_s, max_delay_s=self.max_delay_s):
                    await self.flush()
                    continue
                now = workload.clock()
                # Sleep until the quiet period or the longest wait would be over, whichever first
                # (something still in hand: look again in a quiet period).
                quiet_at = now if workload.in_hand else workload.last_busy
                wait_s = min(quiet_at + self.quiet_s - now, self._oldest + self.max_delay_s - now)
                await wait_or_stop(stop, max(wait_s, 0.005))
        finally:
            await self.flush()
