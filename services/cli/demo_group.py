"""`jedel demo`, second act: watch the flood's mobile group form, wave by wave, role by role."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from shared.broker_access import service_principal
from shared.events import topics
from shared.kafka import tail_from_beginning
from shared.settings import Settings

COUNTED = {
    "VolunteerOffered": "asked",
    "OfferAccepted": "accepted",
    "OfferDeclined": "declined",
    "OfferTimedOut": "timed out",
    "OfferStoodDown": "stood down",
}


@dataclass
class GroupState:
    needed: dict[str, int] = field(default_factory=dict)
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    etas: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    wave: int = 0
    radius_m: int = 0
    playbook: str = ""
    outcome: str | None = None
    understaffed: str | None = None
    accepted_offers: list[str] = field(default_factory=list)

    def apply(self, event: dict[str, Any]) -> None:
        kind = event.get("kind", "")
        if kind in ("MobilizationStarted", "GroupResized"):
            self.needed = dict(event["needed"])
            self.playbook = event["playbook"]
        elif kind == "WaveSent":
            self.wave, self.radius_m = event["wave"], event["radius_m"]
        elif kind in COUNTED:
            self.counts[event["role"]][COUNTED[kind]] += 1
            if kind == "OfferAccepted":
                self.etas[event["role"]].append(event["eta_s"])
                self.accepted_offers.append(event["offer_id"])
        elif kind == "GroupCompleted":
            self.outcome = "complete"
        elif kind == "GroupUnderstaffed":
            missing = ", ".join(f"{role} {n}" for role, n in event["missing"].items())
            self.understaffed = f"{missing} ({event['reason']})"


def _render(state: GroupState, elapsed_s: float) -> Group:
    table = Table(title_justify="left")
    for column in (
        "role",
        "needed",
        "asked",
        "accepted",
        "declined",
        "timed out",
        "stood down",
        "ETA of accepted, min",
    ):
        table.add_column(column, no_wrap=True, justify="left" if column == "role" else "right")
    for role, needed in state.needed.items():
        counts = state.counts[role]
        filled = counts["accepted"] >= needed
        table.add_row(
            f"[green]{role}[/]" if filled else role,
            str(needed),
            str(counts["asked"]),
            str(counts["accepted"]),
            str(counts["declined"]),
            str(counts["timed out"]),
            str(counts["stood down"]),
            " ".join(str(round(eta / 60)) for eta in sorted(state.etas[role])),
        )
    status = (
        "[green]group complete[/]" if state.outcome else f"[yellow]forming… {elapsed_s:.0f}s[/]"
    )
    header = Text.from_markup(
        f"Kostanay flood — playbook {state.playbook or '…'} · wave {state.wave} · "
        f"radius {state.radius_m / 1000:.0f} km · {status}"
    )
    parts: list[Any] = [header, table]
    if state.understaffed:
        parts.append(Text.from_markup(f"[red]GroupUnderstaffed[/]: {state.understaffed}"))
    return Group(*parts)


async def watch_group(
    settings: Settings, incident_id: UUID, *, console: Console, timeout_s: float
) -> GroupState:
    """Follow `mobilization.v1` for one incident until its group is complete (or time runs out)."""
    tail = await tail_from_beginning(
        settings.kafka, (topics.MOBILIZATION,), principal=service_principal("console")
    )
    state = GroupState()
    key = str(incident_id).encode()
    began = time.monotonic()
    try:
        with Live(_render(state, 0), console=console, refresh_per_second=4) as live:
            while state.outcome is None and time.monotonic() - began < timeout_s:
                for records in (await tail.getmany(timeout_ms=250)).values():
                    for record in records:
                        if record.key == key:
                            state.apply(json.loads(record.value or b"{}"))
                live.update(_render(state, time.monotonic() - began))
    finally:
        await tail.stop()
    return state
