"""How a simulated volunteer answers an offer (pure, seeded)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from uuid import UUID

from services.simulator.settings import SimulatorOptions
from shared.events.mobilization import Answer


@dataclass(frozen=True)
class Reply:
    answer: Answer | None  # None: never answers, the offer will time out
    after_s: float


class Crowd:
    """Stable per person: the same volunteer is as willing in every incident of a run."""

    def __init__(self, options: SimulatorOptions) -> None:
        self.options = options
        self._willingness: dict[UUID, float] = {}
        self._rng = random.Random(options.seed)

    def willingness(self, volunteer_id: UUID) -> float:
        if volunteer_id not in self._willingness:
            rng = random.Random(f"{self.options.seed}:{volunteer_id}")
            self._willingness[volunteer_id] = rng.betavariate(
                self.options.accept_alpha, self.options.accept_beta
            )
        return self._willingness[volunteer_id]

    def reply(self, volunteer_id: UUID) -> Reply:
        options = self.options
        delay = options.median_answer_s * math.exp(self._rng.gauss(0, options.answer_sigma))
        after_s = delay * options.time_scale
        if self._rng.random() < options.silent_share:
            return Reply(None, after_s)
        accepts = self._rng.random() < self.willingness(volunteer_id)
        return Reply(Answer.ACCEPT if accepts else Answer.DECLINE, after_s)
