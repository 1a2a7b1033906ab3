"""Simulated volunteers behave like a crowd of people, reproducibly."""

from __future__ import annotations

import statistics
import uuid

from services.simulator.settings import SimulatorOptions
from services.simulator.volunteers import Crowd
from shared.events.mobilization import Answer


def test_the_same_person_is_equally_willing_every_time() -> None:
    crowd = Crowd(SimulatorOptions())
    person = uuid.uuid4()
    assert crowd.willingness(person) == crowd.willingness(person)
    assert Crowd(SimulatorOptions()).willingness(person) == crowd.willingness(person)


def test_acceptance_silence_and_delay_follow_the_settings() -> None:
    options = SimulatorOptions(accept_alpha=1, accept_beta=3, silent_share=0.2, time_scale=1.0)
    crowd = Crowd(options)
    replies = [crowd.reply(uuid.uuid4()) for _ in range(4000)]
    silent = sum(1 for reply in replies if reply.answer is None) / len(replies)
    answered = [reply for reply in replies if reply.answer is not None]
    accepted = sum(1 for reply in answered if reply.answer is Answer.ACCEPT) / len(answered)
    assert 0.17 < silent < 0.23
    assert 0.21 < accepted < 0.29, "Beta(1, 3) has mean 0.25"
    median = statistics.median(reply.after_s for reply in replies)
    assert 75 < median < 105, "median answer time ~90 s"


def test_time_scale_compresses_the_wait_for_the_demo() -> None:
    fast = Crowd(SimulatorOptions(time_scale=0.1, seed=1))
    slow = Crowd(SimulatorOptions(time_scale=1.0, seed=1))
    person = uuid.uuid4()
    assert fast.reply(person).after_s * 10 == slow.reply(person).after_s
