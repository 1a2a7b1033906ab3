"""`jedel demo`, second act: watch the flood's mobile group form, wave by wave, role by role."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from shared.broker_access import service_principal
from shared.events import topics
from shared.kafka import tail_from_beginning
from shared.reference import KAZAKHSTAN_TZ
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
    complete: bool = False  # GroupCompleted seen
    understaffed: str | None = None
    accepted_offers: list[str] = field(default_factory=list)
    # offer id → (volunteer id, expires at), to sign the answer link of an accepted offer.
    offered: dict[str, tuple[str, str]] = field(default_factory=dict)
    offers_sent: int = 0
    offer_budget: int | None = None
    expected_complete_at: str | None = None

    @property
    def asked(self) -> int:
        return sum(counts["asked"] for counts in self.counts.values())

    @property
    def places(self) -> int:
        return sum(self.needed.values())

    def apply(self, event: dict[str, Any]) -> None:
        kind = event.get("kind", "")
        if kind in ("MobilizationStarted", "GroupResized"):
            self.needed = dict(event["needed"])
            self.playbook = event["playbook"]
        elif kind == "WaveSent":
            self.wave, self.radius_m = event["wave"], event["radius_m"]
            self.offers_sent = event.get("offers_sent") or self.offers_sent
            self.offer_budget = event.get("offer_budget") or self.offer_budget
            self.expected_complete_at = event.get("expected_complete_at")
        elif kind in COUNTED:
            self.counts[event["role"]][COUNTED[kind]] += 1
            if kind == "VolunteerOffered":
                self.offered[event["offer_id"]] = (event["volunteer_id"], event["expires_at"])
            if kind == "OfferAccepted":
                self.etas[event["role"]].append(event["eta_s"])
                self.accepted_offers.append(event["offer_id"])
        elif kind == "GroupCompleted":
            self.complete = True
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
        "[green]group complete[/]" if state.complete else f"[yellow]forming… {elapsed_s:.0f}s[/]"
    )
    header = Text.from_markup(
        f"Kostanay flood — playbook {state.playbook or '…'} · wave {state.wave} · "
        f"radius {state.radius_m / 1000:.0f} km · {status}"
    )
    budget = (
        f"{state.asked} asked for {state.places} places"
        + (
            f" · offer budget {state.offer_budget}, {max(0, state.offer_budget - state.asked)} left"
            if state.offer_budget
            else ""
        )
        + (
            f" · expected complete by {_clock(state.expected_complete_at)}"
            if state.expected_complete_at and not state.complete
            else ""
        )
    )
    parts: list[Any] = [header, table, Text(budget)]
    if state.understaffed:
        parts.append(Text.from_markup(f"[red]GroupUnderstaffed[/]: {state.understaffed}"))
    return Group(*parts)


def _clock(moment: str) -> str:
    """An event's UTC timestamp as local time (UTC+5), to the second."""
    return datetime.fromisoformat(moment).astimezone(KAZAKHSTAN_TZ).strftime("%H:%M:%S")


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
            while not state.complete and time.monotonic() - began < timeout_s:
                for records in (await tail.getmany(timeout_ms=250)).values():
                    for record in records:
                        if record.key == key:
                            state.apply(json.loads(record.value or b"{}"))
                live.update(_render(state, time.monotonic() - began))
    finally:
        await tail.stop()
    return state
