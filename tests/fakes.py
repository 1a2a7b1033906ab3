"""Plain fakes for unit tests of consumers: a Kafka message that counts its acks, dead letters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeMessage:
    """What a subscriber is handed: one record, or a batch of them as a tuple."""

    raw_message: Any
    acked: int = 0
    nacked: int = 0

    async def ack(self) -> None:
        self.acked += 1

    async def nack(self) -> None:
        self.nacked += 1


@dataclass
class FakeDeadLetters:
    """Keeps the letters it is sent; with `fail`, fails like a broker that is away."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False

    async def send(self, **letter: Any) -> None:
        if self.fail:
            raise OSError("broker away")
        self.sent.append(letter)
