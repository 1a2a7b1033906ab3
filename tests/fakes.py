"""Plain fakes for unit tests of consumers: a Kafka message that counts its acks, dead letters,
the Kafka consumer a batch came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition


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


@dataclass
class FakeKafka:
    """The consumer a fetch came from: which partitions it owns, and what it was asked to commit."""

    owned: set[TopicPartition] = field(default_factory=lambda: {TopicPartition("alerts.cap.v1", 1)})
    commits: list[dict[TopicPartition, int]] = field(default_factory=list)

    def assignment(self) -> set[TopicPartition]:
        return self.owned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))

    def position(self) -> int | None:
        """The last offset committed for partition 1."""
        return self.commits[-1][TopicPartition("alerts.cap.v1", 1)] if self.commits else None
