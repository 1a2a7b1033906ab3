"""Refused messages go to a dead-letter topic: the original bytes, why, and where from.

Each one is counted (`jedel_dead_letters_total`, per source topic and code) once it is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from faststream.kafka import KafkaBroker

from shared import metrics
from shared.events import topics
from shared.events.alerts import DeadLetter
from shared.rejections import Rejected

log = logging.getLogger(__name__)


class DeadLetters:
    def __init__(
        self,
        broker: KafkaBroker,
        *,
        clock: Callable[[], datetime],
        topic: str = topics.ALERTS_DEAD_LETTER,
        service: str | None = None,
    ) -> None:
        self.broker = broker
        self.clock = clock
        self.topic = topic
        self.service = service or service_of(broker)

    async def send(
        self,
        *,
        value: bytes,
        key: bytes | None,
        topic: str,
        partition: int,
        offset: int,
        rejection: Rejected,
    ) -> DeadLetter:
        letter = DeadLetter(
            code=rejection.code,
            reason=rejection.reason,
            source_topic=topic,
            source_partition=partition,
            source_offset=offset,
            received_at=self.clock(),
            sender=rejection.sender or "",
            regions=",".join(rejection.regions),
        )
        # Awaited: the source offset is committed only once the dead letter is safely written.
        await self.broker.publish(value, self.topic, key=key, headers=letter.to_headers())
        metrics.count_dead_letter(self.service, topic, rejection.code)
        log.warning(
            "dead-lettered %s/%d@%d: %s: %s",
            topic,
            partition,
            offset,
            rejection.code,
            rejection.reason,
            extra={"dead_letter_code": rejection.code},
        )
        return letter


def service_of(broker: KafkaBroker) -> str:
    """The service a broker was built for: its client id is the service's principal,
    `jedel-<service>` (`shared.kafka.build_broker`)."""
    try:
        client_id = broker.config.broker_config.client_id
    except AttributeError:
        return "unknown"
    return str(client_id).removeprefix("jedel-") if client_id else "unknown"
