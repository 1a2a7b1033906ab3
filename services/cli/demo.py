"""`jedel demo`: publish sample alerts and watch each become an incident or a dead letter."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaConsumer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.auth.principals import AccountRole
from services.api.auth.staff import add_staff, new_password
from services.cli.demo_group import GroupState, watch_group
from services.cli.publishing import AlertPublisher
from services.cli.samples import SAMPLE_IDENTIFIERS, Sample, build_samples
from shared import answer_links
from shared.broker_access import service_principal
from shared.db import build_engine, build_sessionmaker
from shared.events import topics
from shared.events.alerts import DeadLetter
from shared.kafka import ensure_topics, tail_from_beginning
from shared.reference import region_by_code
from shared.settings import Settings

CONSOLE = service_principal("console")  # the operators' read-only view of every topic
INCIDENTS_OF = text(
    """
    SELECT a.identifier, i.id, i.type, i.priority, i.status, i.alert_status, i.area_km2,
           i.region_codes
    FROM alerts a JOIN incidents i ON i.id = a.incident_id
    WHERE a.identifier = ANY(:identifiers)
    """
)

# The demo's synthetic volunteers would be "asked too often today" after a few runs (offers count
# towards fatigue, stand-downs included): each run first forgets the call-outs of the earlier
# runs' withdrawn incidents — only those, and only in the mobilizer's working tables (the
# registry's append-only log keeps them).
FORGET_EARLIER_RUNS = text(
    """
    DELETE FROM mobilizations m USING alerts a
    WHERE a.incident_id = m.incident_id AND m.status = 'closed'
      AND a.identifier ~ :pattern
    """
)


@dataclass
class Row:
    sample: Sample
    position: tuple[int, int] | None = None  # partition, offset
    incident: dict[str, Any] | None = None
    announced: str | None = None
    dead_letter: DeadLetter | None = None
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None

    @property
    def done(self) -> bool:
        if self.sample.expect_dead_letter:
            return self.dead_letter is not None
        return self.incident is not None and self.announced is not None


# The dispatcher account the demo signs a person in with (Kostanay region, where the flood is).
DEMO_DISPATCHER = "demo-kostanay"
BASE_URL = "http://127.0.0.1:8000"


async def run_demo(
    settings: Settings,
    *,
    console: Console,
    timeout_s: float,
    # The simulated people answer ten times faster than real ones, but the mobilizer paces its
    # waves in real time (it waits for answers before asking more): a role whose first few
    # people all say no takes a few rounds of ~1 min (180 s left one of two runs with 9 of 10).
    group_timeout_s: float = 300.0,
    linger_s: float = 0.0,
) -> bool:
    if not console.is_terminal:
        console = Console(width=max(console.width, 132))  # under make: no terminal, no width
    await ensure_topics(settings.kafka, principal=CONSOLE)
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    rows = [Row(sample) for sample in build_samples(datetime.now(UTC), run_id)]
    engine = build_engine(settings.database, application_name="jedel-demo")
    async with engine.begin() as connection:
        await connection.execute(FORGET_EARLIER_RUNS, {"pattern": SAMPLE_IDENTIFIERS})
    watcher = await tail_from_beginning(
        settings.kafka, (topics.INCIDENTS, topics.ALERTS_DEAD_LETTER), principal=CONSOLE
    )
    broker = AlertPublisher(settings.kafka)
    await broker.connect()
    try:
        for row in rows:
            metadata = await broker.publish(
                row.sample.payload, row.sample.topic, key=row.sample.identifier.encode()
            )
            row.position = (metadata.partition, metadata.offset)
            row.started = time.monotonic()
        console.print(f"published {len(rows)} sample alerts (run {run_id})")
        deadline = time.monotonic() + timeout_s
        announced: dict[bytes, str] = {}
        with Live(_table(rows), console=console, refresh_per_second=4) as live:
            while not all(row.done for row in rows) and time.monotonic() < deadline:
                await _poll_database(engine, rows)
                await _poll_topics(watcher, rows, announced)
                live.update(_table(rows))
        console.print()
        for row in rows:
            if row.dead_letter is not None:
                console.print(f"[red]{row.sample.label}[/]: {row.dead_letter.reason}")
        missing = [row.sample.label for row in rows if not row.done]
        if missing:
            console.print(f"[red]not seen within {timeout_s:.0f}s:[/] {', '.join(missing)}")
            console.print("see .run/intake.log")
            return False
        console.print(
            "[green]every alert became an incident on incidents.v1, and the malformed one went "
            "to alerts.dead_letter.v1 with its reason: the console's Refused alerts shows it to "
            "every dispatcher, to correct or dismiss[/]\n"
        )
        flood = rows[0].incident
        assert flood is not None
        password = await _demo_dispatcher(engine)
        console.print(
            "\nThe mobilizer now calls out a mobile group for the Kostanay flood; simulated "
            "volunteers answer as people do (some accept, some decline, some never answer).\n"
            f"Watch it live in the dispatcher's console: {BASE_URL}/console "
            f"(user [bold]{DEMO_DISPATCHER}[/], password [bold]{password}[/]; new each run)"
        )
        group = await watch_group(settings, flood["id"], console=console, timeout_s=group_timeout_s)
        formed = group.complete
        if linger_s > 0:
            console.print(
                f"\nthe flood stays open for {linger_s:.0f}s (Ctrl-C to end sooner): "
                f"{BASE_URL}/console"
            )
            with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
                await asyncio.sleep(linger_s)
        await _withdraw(broker, rows)
        console.print()
        console.print(
            "the demo withdrew its CAP alerts (msgType Cancel): their incidents are cancelled and "
            "everyone still called out is stood down, so the next run starts clean"
        )
        if not formed:
            console.print(
                f"[red]the group was not complete within {group_timeout_s:.0f}s[/]; "
                "see .run/mobilizer.log and `jedel explain " + str(flood["id"]) + "`"
            )
            return False
        console.print(
            f"[green]group complete: {group.asked} people asked for {group.places} places"
            + (f" (offer budget {group.offer_budget})" if group.offer_budget else "")
            + "; the other offers were stood down.[/] Why each volunteer "
            f"was or was not asked: jedel explain {flood['id']}\n"
            + (
                "a volunteer's answer page, where their SMS links (closed now: the demo withdrew "
                "its alerts): "
                f"{BASE_URL}/r/{_answer_link(settings, group)}?lang=en\n"
                if _answer_link(settings, group)
                else ""
            )
            + (
                f"the volunteer app: {BASE_URL}/app (sign in with "
                f"{phone}; in development the one-time code is written to .run/api.log)\n"
                if (phone := await _volunteer_phone(engine, group))
                else ""
            )
            + "incidents as GeoJSON: http://127.0.0.1:8000/api/v1/incidents · "
            "API docs: http://127.0.0.1:8000/docs · events: http://127.0.0.1:8000/asyncapi"
        )
        return True
    finally:
        await broker.stop()
        await watcher.stop()
        await engine.dispose()


async def _demo_dispatcher(engine: AsyncEngine) -> str:
    """Kostanay's demo dispatcher, with a new password (returned) and earlier sessions ended."""
    async with build_sessionmaker(engine)() as session, session.begin():
        password = new_password()
        await add_staff(
            session,
            username=DEMO_DISPATCHER,
            role=AccountRole.DISPATCHER,
            regions=["KZ-39"],
            password=password,
            display_name="Demo dispatcher, Kostanay",
            now=datetime.now(UTC),
            replace_password=True,
        )
    return password


async def _withdraw(broker: AlertPublisher, rows: list[Row]) -> None:
    now = datetime.now(UTC)
    for row in rows:
        cancel = row.sample.cancel(now)
        if cancel is not None:
            await broker.publish(cancel, topics.ALERTS_CAP, key=row.sample.identifier.encode())


async def _poll_database(engine: Any, rows: list[Row]) -> None:
    identifiers = [row.sample.identifier for row in rows if row.incident is None]
    if not identifiers:
        return
    async with engine.connect() as connection:
        found = {
            record.identifier: record._asdict()
            for record in await connection.execute(INCIDENTS_OF, {"identifiers": identifiers})
        }
    for row in rows:
        if row.incident is None and row.sample.identifier in found:
            row.incident = found[row.sample.identifier]


async def _poll_topics(
    consumer: AIOKafkaConsumer, rows: list[Row], announced: dict[bytes, str]
) -> None:
    """Read what arrived; an event may come before its incident is found in the database, so
    every incident event seen is remembered by key and matched on each pass."""
    batches = await consumer.getmany(timeout_ms=250)
    for records in batches.values():
        for record in records:
            headers = {name: value.decode() for name, value in record.headers}
            if record.topic == topics.ALERTS_DEAD_LETTER:
                letter = DeadLetter.from_headers(headers)
                for row in rows:
                    where = (letter.source_partition, letter.source_offset)
                    if row.sample.topic == letter.source_topic and row.position == where:
                        row.dead_letter = letter
                        row.seconds = row.seconds or time.monotonic() - row.started
            elif record.key is not None:
                announced.setdefault(record.key, headers.get("event_type", "?"))
    for row in rows:
        if row.incident and row.announced is None:
            kind = announced.get(str(row.incident["id"]).encode())
            if kind is not None:
                row.announced = kind
                row.seconds = time.monotonic() - row.started


def _table(rows: list[Row]) -> Table:
    regions = region_by_code()
    table = Table(title="Alerts → incidents", title_justify="left")
    for column in ("alert", "became", "region", "km²", "published", "s"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        seconds = f"{row.seconds:.1f}" if row.seconds is not None else ""
        if row.dead_letter is not None:
            letter = row.dead_letter
            table.add_row(
                row.sample.label,
                f"[red]refused: {letter.code}[/]",
                "",
                "",
                "dead letter",
                seconds,
            )
        elif row.incident is not None:
            incident = row.incident
            codes = incident["region_codes"] or []
            flag = " [magenta](drill)[/]" if incident["alert_status"] == "Exercise" else ""
            table.add_row(
                row.sample.label,
                f"{incident['type']} · {incident['priority']} · {incident['status']}{flag}",
                f"{codes[0]} {regions[codes[0]].name_kk}" if codes else "—",
                f"{incident['area_km2']:,.0f}",
                row.announced if row.announced else "[yellow]waiting…[/]",
                seconds,
            )
        else:
            table.add_row(row.sample.label, "[yellow]waiting…[/]", "", "", "", "")
    return table


async def _volunteer_phone(engine: AsyncEngine, group: GroupState) -> str | None:
    """The (synthetic) phone of the volunteer whose answer page the demo shows, to sign in with."""
    for offer_id in group.accepted_offers:
        if offer_id in group.offered:
            async with engine.connect() as connection:
                phone = await connection.scalar(
                    text("SELECT phone FROM volunteers WHERE id = :v"),
                    {"v": UUID(group.offered[offer_id][0])},
                )
            return str(phone) if phone else None
    return None


def _answer_link(settings: Settings, group: GroupState) -> str | None:
    """The signed token of the first accepted offer's SMS link, as the notifier made it."""
    for offer_id in group.accepted_offers:
        if offer_id in group.offered:
            volunteer_id, expires_at = group.offered[offer_id]
            return answer_links.sign(
                settings.secret_key,
                offer_id=UUID(offer_id),
                volunteer_id=UUID(volunteer_id),
                offer_expires_at=datetime.fromisoformat(expires_at),
            )
    return None
