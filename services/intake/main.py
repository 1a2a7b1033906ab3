"""The intake service: alerts in, incidents out.

`IntakeService` adds the expiry sweep to the loops every service runs (`shared.service`);
`create_app` wraps it in a FastStream application for `jedel run intake`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from faststream import FastStream
from sqlalchemy import select

from services.intake.cap import load_rules
from services.intake.gazetteer import Gazetteer
from services.intake.ingest import expire_due
from services.intake.regions import RegionIndex
from services.intake.repository import IncidentRepository
from services.intake.senders import REGISTRY_FILE, SenderRegistry
from services.intake.settings import IntakeSettings
from services.intake.subscribers import IntakeContext, build_router
from services.intake.tables import OUTBOX, SenderSuspensionRow
from shared.dead_letters import DeadLetters
from shared.events.base import utc_now
from shared.reference import load_regions
from shared.service import BrokerService, Loop, every

log = logging.getLogger(__name__)


class IntakeService(BrokerService):
    def __init__(
        self, settings: IntakeSettings, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(settings, name="intake", outbox=OUTBOX)
        self.settings: IntakeSettings = settings
        self.clock = clock
        load_rules()  # a broken mapping file stops the service at start, not at the first alert
        senders = load_senders(settings)  # and so does a broken sender registry
        self.context = IntakeContext(
            settings=settings,
            sessionmaker=self.sessionmaker,
            regions=RegionIndex(load_regions()),
            dead_letters=DeadLetters(self.broker, clock=clock),
            clock=clock,
            senders=senders,
            gazetteer=Gazetteer.default(),
        )
        self.broker.include_router(build_router(self.context))

    def loops(self) -> dict[str, Loop]:
        interval = self.settings.intake.expiry_sweep_interval_s
        refresh = self.settings.intake.suspensions_refresh_s
        return {
            **super().loops(),
            "expiry-sweep": lambda stop: every(interval, stop, self.expire_now),
            "sender-suspensions": lambda stop: every(refresh, stop, self.read_suspensions),
        }

    async def prepare(self) -> None:
        await super().prepare()
        # Before the first message: a suspended sender is refused from the start. A database
        # away now is no reason not to start; the loop reads them again in a few seconds.
        try:
            await self.read_suspensions()
        except Exception:
            log.warning("cannot read the suspended senders yet", exc_info=True)

    async def read_suspensions(self) -> frozenset[str]:
        """The senders administrators suspended, for the judging of every message after this."""
        async with self.sessionmaker() as session:
            keys = frozenset(await session.scalars(select(SenderSuspensionRow.sender_key)))
        if keys != self.context.suspended.keys:
            log.info("suspended senders now: %s", ", ".join(sorted(keys)) or "none")
        self.context.suspended.keys = keys
        return keys

    async def expire_now(self) -> int:
        async with self.sessionmaker() as session, session.begin():
            outcome = await expire_due(IncidentRepository(session), now=self.clock())
            await OUTBOX.add_all(session, outcome.events)
        if outcome.incident_ids:
            log.info("expired %d incidents", len(outcome.incident_ids))
        return len(outcome.incident_ids)


def load_senders(settings: IntakeSettings) -> SenderRegistry:
    path = settings.intake.senders_file or REGISTRY_FILE
    registry = SenderRegistry.load(path)
    examples = [sender.id for sender in registry.senders if sender.example]
    log.info("sender registry %s: %d senders", path, len(registry.senders))
    if examples and settings.environment == "production":
        log.warning(
            "the sender registry has %d example entries (%s): replace them with the senders "
            "agreed with each organisation (JEDEL_INTAKE__SENDERS_FILE)",
            len(examples),
            ", ".join(examples),
        )
    if settings.intake.accept_unverified:
        log.warning("senders not in the registry are accepted, marked unverified")
    return registry


def create_app(settings: IntakeSettings | None = None) -> FastStream:
    return IntakeService(settings or IntakeSettings()).app()
