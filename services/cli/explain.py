"""`jedel explain INCIDENT`: why each volunteer was or was not asked, as a table.

It reads what the mobilizer recorded with each wave (the same rows as
`GET /api/v1/incidents/{id}/explanations`): the asked first, then everyone by distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from rich.console import Console
from rich.table import Table

from services.api import callouts
from services.api.errors import MobilizationNotFound
from shared.db import build_engine
from shared.i18n import Language, normalize_language
from shared.reference import KAZAKHSTAN_TZ
from shared.settings import Settings

OUTCOME_STYLE = {
    "asked": "green",
    "not_eligible": "red",
    "outside_radius": "yellow",
    "ranked_below": "cyan",
}


async def explain(
    incident_id: UUID,
    *,
    settings: Settings,
    console: Console,
    language: str = "kk",
    volunteer: UUID | None = None,
) -> bool:
    """Print the group's state and the explanations; False if the incident was never mobilised."""
    lang = normalize_language(language)
    engine = build_engine(settings.database, application_name="jedel-explain")
    try:
        async with engine.connect() as connection:
            try:
                mobilization = await callouts.get_mobilization(connection, incident_id)
            except MobilizationNotFound:
                console.print(f"[red]incident {incident_id} was never mobilised[/]")
                return False
            tallies = await callouts.role_tallies(connection, mobilization)
            records = await callouts.explanations(connection, incident_id, volunteer_id=volunteer)
    finally:
        await engine.dispose()
    console.print(heading(mobilization, tallies))
    if not records:
        console.print(
            "[yellow]no explanation recorded for this volunteer[/]"
            if volunteer
            else "[yellow]no explanation recorded yet[/]"
        )
        return True
    console.print(explanation_table(records, language=lang))
    return True


def heading(
    mobilization: callouts.MobilizationRecord, tallies: Sequence[callouts.RoleTally]
) -> str:
    deadline = mobilization.deadline_at.astimezone(KAZAKHSTAN_TZ).strftime("%Y-%m-%d %H:%M")
    roles = ", ".join(f"{t.role} {t.accepted}/{t.needed}" for t in tallies)
    exercise = " [magenta](exercise)[/]" if mobilization.is_exercise else ""
    return (
        f"[bold]{mobilization.incident_id}[/]{exercise} · {mobilization.playbook} · "
        f"[bold]{mobilization.status}[/] · wave {mobilization.wave} · "
        f"radius {mobilization.radius_m / 1000:.1f} km · deadline {deadline} (UTC+5)\n"
        f"places: {roles}"
    )


def explanation_table(
    records: Sequence[callouts.ExplanationRecord], *, language: Language
) -> Table:
    table = Table(show_lines=True, title=f"Why asked or not ({language})")
    # The reasons are what the dispatcher reads: they get the width, names wrap.
    table.add_column("volunteer", max_width=18)
    table.add_column("outcome", max_width=16)
    table.add_column("role", max_width=14)
    table.add_column("ETA min", justify="right", no_wrap=True)
    table.add_column("km", justify="right", no_wrap=True)
    table.add_column("why", ratio=1, min_width=24)
    for record in records:
        outcome = f"[{OUTCOME_STYLE.get(record.outcome, 'white')}]{record.outcome}[/]"
        if record.offer_status:
            answered = record.offer_status
            if record.closed_reason:
                answered += f" ({record.closed_reason})"
            outcome += f"\n→ {answered}"
        table.add_row(
            f"{record.name or '?'}\n[dim]{str(record.volunteer_id)[:8]}[/]",
            outcome,
            record.role or "",
            "" if record.eta_s is None else str(max(1, round(record.eta_s / 60))),
            "" if record.distance_m is None else f"{record.distance_m / 1000:.1f}",
            "\n".join(record.lines(language)),
        )
    return table
