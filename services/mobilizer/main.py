"""The mobilizer service: incidents in, waves of offers out, until each group is complete.

`MobilizerService` adds to the loops every service runs (`shared.service`) the sweep of durable
timers (offer timeouts and due waves live in the database, so a restart loses
none). `create_app` wraps it for `jedel run mobilizer`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from faststream import FastStream

from services.mobilizer.backlog import QUIET_S, Backlog, Workload, writer
from services.mobilizer.closing import time_out
from services.mobilizer.dispatch import Decisions, Matching, send_wave
from services.mobilizer.eligibility import FatigueRules
from services.mobilizer.playbooks import load_playbooks
from services.mobilizer.ranking import AcceptanceModel, GeodesicRouter
from services.mobilizer.repository import MobilizationRepository
from services.mobilizer.settings import MobilizerSettings
from services.mobilizer.subscribers import MobilizerContext, build_router
from services.mobilizer.tables import OUTBOX
from shared.consumer import Consumer
from shared.dead_letters import DeadLetters
from shared.events import topics
from shared.events.base import utc_now
from shared.events.mobilization import MobilizationStatus
from shared.positions import LivePositions
from shared.redis_client import connect_redis
from shared.service import BrokerService, Loop, every


def build_matching(
    settings: MobilizerSettings, *, positions: LivePositions | None = None
) -> Matching:
    options = settings.mobilizer
    return Matching(
        playbooks=load_playbooks(),  # a broken playbook file stops the service at start
        router=GeodesicRouter(detour_factor=options.detour_factor),
        model=AcceptanceModel(),
        rules=FatigueRules(
            max_callouts_per_day=options.max_callouts_per_day,
            max_callouts_per_week=options.max_callouts_per_week,
            max_offers_per_day=options.max_offers_per_day,
            max_offers_per_week=options.max_offers_per_week,
            rest_hours_after_long_deployment=options.rest_hours_after_long_deployment,
            long_deployment_hours=options.long_deployment_hours,
        ),
        candidates_per_role=options.candidates_per_role,
        positions=positions,
    )


# The longest the sweep waits for a burst to pass (see `MobilizerService.sweep`).
SWEEP_MAX_DELAY_S = 3.0


class MobilizerService(BrokerService):
    def __init__(
        self,
        settings: MobilizerSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        matching: Matching | None = None,
    ) -> None:
        super().__init__(settings, name="mobilizer", outbox=OUTBOX)
        self.settings: MobilizerSettings = settings
        self.clock = clock
        # Live positions only sharpen the ranking: a silent Redis gets a short wait, then homes.
        self.redis = connect_redis(
            settings.redis, timeout_s=settings.mobilizer.live_positions_timeout_s
        )
        self.matching = matching or build_matching(settings, positions=LivePositions(self.redis))
        consumer = Consumer(
            DeadLetters(self.broker, clock=clock, topic=topics.EVENTS_DEAD_LETTER),
            max_attempts=settings.mobilizer.max_attempts,
            retry_backoff_s=settings.mobilizer.retry_backoff_s,
        )
        self.workload = Workload()
        self._swept_at = self.workload.clock()
        self.explanations = Backlog(writer(self.sessionmaker), self.workload)
        self.context = MobilizerContext(
            settings=settings,
            sessionmaker=self.sessionmaker,
            matching=self.matching,
            consumer=consumer,
            clock=clock,
            workload=self.workload,
            explanations=self.explanations,
        )
        self.broker.include_router(build_router(self.context))
        self.lanes = self.context.lanes

    def loops(self) -> dict[str, Loop]:
        interval = self.settings.mobilizer.sweep_interval_s
        return {
            **super().loops(),
            "timers": lambda stop: every(interval, stop, self.sweep_when_quiet),
            "explanations": self.explanations.run,
        }

    async def close(self) -> None:
        await super().close()
        await self.redis.aclose()

    async def sweep_when_quiet(self) -> int:
        """`sweep`, but not while incidents or answers are in hand (nor `QUIET_S` after), for at
        most `SWEEP_MAX_DELAY_S`, and one begun in a lull stops between two re-plans when an
        incident or answer arrives: a burst's first waves go before the re-plans of mobilisations
        under way, which come every 30 s and can wait a second or two. A sweep that waited its
        longest finishes, so re-plans go on under load that never lets up."""
        if not self.workload.lets(self._swept_at, quiet_s=QUIET_S, max_delay_s=SWEEP_MAX_DELAY_S):
            return 0
        began = self.workload.clock()
        overdue = began - self._swept_at >= SWEEP_MAX_DELAY_S
        self._swept_at = began
        return await self.sweep(until=None if overdue else self.workload.has_work)

    async def sweep(self, *, until: Callable[[], bool] | None = None) -> int:
        """Time out unanswered offers and send the waves that are due, or as many as come before
        `until` says to stop (the rest stay due for the next sweep); returns events written."""
        now = self.clock()
        async with self.sessionmaker() as session, session.begin():
            decisions, incidents = await time_out(session, matching=self.matching, now=now)
            await OUTBOX.add_all(session, decisions.events)
        written = len(decisions.events)
        for incident_id in incidents:
            if until is not None and until():
                break
            async with self.sessionmaker() as session, session.begin():
                mobilization = await MobilizationRepository(session).get(
                    incident_id, skip_locked=True
                )
                if mobilization is None or mobilization.status != MobilizationStatus.ACTIVE:
                    continue
                wave = Decisions()
                await send_wave(
                    session, mobilization, matching=self.matching, now=now, decisions=wave
                )
                await OUTBOX.add_all(session, wave.events)
                written += len(wave.events)
        return written


def create_app(settings: MobilizerSettings | None = None) -> FastStream:
    return MobilizerService(settings or MobilizerSettings()).app()
