"""Where a bench's CPU went: seconds of CPU each process group used between two readings.

On a 2-core machine the intake, the broker, PostgreSQL and the bench's own load generator share
the same cores, so a throughput figure means little without knowing who spent the time. Linux
only (reads `/proc`); a process that ended between two readings counts what it had used at the
first."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of `pid` so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def pids_named(name: str) -> list[int]:
    """Processes whose command is `name` (e.g. every `postgres` backend)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@dataclass
class CpuMeter:
    """Groups of processes, each found afresh at every reading (backends come and go)."""

    groups: Mapping[str, Callable[[], list[int]]]

    def read(self) -> dict[str, float]:
        return {name: sum(map(cpu_seconds, pids())) for name, pids in self.groups.items()}

    @staticmethod
    def spent(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
        return {name: max(0.0, after[name] - before.get(name, 0.0)) for name in after}
