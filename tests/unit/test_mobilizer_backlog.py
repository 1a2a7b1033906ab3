"""First waves' explanations wait while the mobilizer has batches in hand, but not for ever."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import cast

from services.mobilizer.backlog import Backlog, Workload, due
from services.mobilizer.dispatch import Unexplained


def test_waits_while_busy_and_not_longer_than_the_longest_wait() -> None:
    # The last batch ended 50 ms ago, oldest added 1 s ago: not quiet for 100 ms yet.
    assert not due(now=10.0, in_hand=0, last_busy=9.95, oldest=9.0, quiet_s=0.1, max_delay_s=2.0)
    # Quiet for 150 ms: written.
    assert due(now=10.0, in_hand=0, last_busy=9.85, oldest=9.95, quiet_s=0.1, max_delay_s=2.0)
    # An incident in hand (begun long ago): not written.
    assert not due(now=10.0, in_hand=1, last_busy=5.0, oldest=9.0, quiet_s=0.1, max_delay_s=2.0)
    # Never quiet, but the oldest has waited 2 s: written all the same.
    assert due(now=10.0, in_hand=1, last_busy=10.0, oldest=8.0, quiet_s=0.1, max_delay_s=2.0)


def waves(*names: str) -> list[Unexplained]:
    return [cast(Unexplained, name) for name in names]  # the backlog only carries them


class Written:
    """A fake writer: the batches it was given, by their stand-ins' names."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def __call__(self, batch: Sequence[Unexplained]) -> None:
        self.batches.append([str(wave) for wave in batch])


async def test_explanations_are_written_once_the_batches_let_up() -> None:
    written = Written()
    backlog = Backlog(written, Workload(), quiet_s=0.05, max_delay_s=5.0)
    stop = asyncio.Event()
    task = asyncio.create_task(backlog.run(stop))
    with backlog.workload.busy():
        backlog.add(waves("first", "second"))
        await asyncio.sleep(0.2)  # a long batch
        assert written.batches == []
    await asyncio.sleep(0.02)
    assert written.batches == []  # it ended a moment ago
    with backlog.workload.busy():  # the next batch
        backlog.add(waves("third"))
    await asyncio.sleep(0.02)
    assert written.batches == []
    await asyncio.sleep(0.2)  # no batch since
    assert written.batches == [["first", "second", "third"]]
    stop.set()
    await task


async def test_under_load_that_never_lets_up_they_wait_at_most_the_longest_wait() -> None:
    written = Written()
    backlog = Backlog(written, Workload(), quiet_s=0.05, max_delay_s=0.3)
    stop = asyncio.Event()
    task = asyncio.create_task(backlog.run(stop))
    backlog.add(waves("first"))
    with backlog.workload.busy():  # one batch after another
        await asyncio.sleep(0.2)
        assert written.batches == []
        await asyncio.sleep(0.4)
    assert written.batches == [["first"]]
    stop.set()
    await task


async def test_what_waits_when_the_service_stops_is_written() -> None:
    written = Written()
    backlog = Backlog(written, Workload(), quiet_s=10.0, max_delay_s=60.0)
    stop = asyncio.Event()
    task = asyncio.create_task(backlog.run(stop))
    with backlog.workload.busy():
        backlog.add(waves("last"))
    await asyncio.sleep(0.01)
    assert written.batches == []
    stop.set()
    await asyncio.wait_for(task, 1.0)
    assert written.batches == [["last"]]
    assert len(backlog) == 0


def test_work_that_can_wait_runs_when_the_batches_let_up_or_it_has_waited_long_enough() -> None:
    now = [100.0]
    workload = Workload(clock=lambda: now[0])
    waiting_since = 100.0
    assert workload.lets(waiting_since, quiet_s=0.1, max_delay_s=3.0)  # nothing in hand
    with workload.busy():
        now[0] = 102.0
        assert not workload.lets(waiting_since, quiet_s=0.1, max_delay_s=3.0)
        now[0] = 103.0  # in hand all along, but it has waited 3 s
        assert workload.lets(waiting_since, quiet_s=0.1, max_delay_s=3.0)
    waiting_since = 103.0
    now[0] = 103.05  # the batch ended 50 ms ago
    assert not workload.lets(waiting_since, quiet_s=0.1, max_delay_s=3.0)
    now[0] = 103.2
    assert workload.lets(waiting_since, quiet_s=0.1, max_delay_s=3.0)
