"""`jedel`: migrate, seed, run services, publish alerts, watch the demo."""

from __future__ import annotations

import asyncio
import importlib
import os
from datetime import date
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console

from services.cli import processes
from services.cli.processes import SERVICES
from shared.settings import DatabaseSettings, Settings

app = typer.Typer(no_args_is_help=True, help="Jedel: volunteers for emergencies in Kazakhstan.")
seed_app = typer.Typer(no_args_is_help=True, help="Load reference data and volunteers.")
app.add_typer(seed_app, name="seed")
accounts_app = typer.Typer(no_args_is_help=True, help="Staff accounts: add, list, disable.")
app.add_typer(accounts_app, name="accounts")
console = Console()
ROOT = Path(__file__).resolve().parents[2]
BROKER_SERVICES = ("intake", "mobilizer", "notifier", "registry", "tracker", "simulator")
# Where each service answers /metrics and /readyz when JEDEL_METRICS_PORT does not say (the API
# serves both on its own port); one machine runs them all, so each has its own.
METRICS_PORTS = {
    "intake": 9101,
    "mobilizer": 9102,
    "notifier": 9103,
    "registry": 9104,
    "tracker": 9105,
}


def _bulk(settings: Settings) -> DatabaseSettings:
    """Bulk loads of a million rows outlast the per-statement timeout meant for services."""
    return settings.database.model_copy(update={"statement_timeout_ms": 0})


@app.command()
def migrate(
    database: Annotated[
        str | None, typer.Option(help="another database on the same server (e.g. jedel_bench)")
    ] = None,
) -> None:
    """Apply database migrations (and create the PostGIS extension)."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import make_url

    url = make_url(Settings().database.url)
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "infra" / "migrations"))
    config.attributes["database_url"] = (
        url.set(database=database) if database else url
    ).render_as_string(hide_password=False)
    command.upgrade(config, "head")
    console.print("[green]database migrated[/]")


@app.command()
def topics() -> None:
    """Create the Kafka topics that are missing (as the broker's admin)."""
    from shared.broker_access import ADMIN
    from shared.kafka import ensure_topics

    asyncio.run(ensure_topics(Settings().kafka, principal=ADMIN))
    console.print("[green]topics ready[/]")


@seed_app.command("reference")
def seed_reference() -> None:
    """The 20 regions of Kazakhstan and its settlements (GeoNames, CC BY 4.0)."""
    from services.api.seed import seed_reference as run_seed
    from shared.db import build_engine

    async def main() -> None:
        engine = build_engine(_bulk(Settings()), application_name="jedel-seed")
        try:
            await run_seed(engine)
        finally:
            await engine.dispose()

    asyncio.run(main())
    console.print("[green]regions and settlements loaded[/]")


@seed_app.command("volunteers")
def seed_volunteers(
    count: Annotated[int, typer.Option(min=0, help="How many synthetic volunteers")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same people")] = 7,
) -> None:
    """Replace the synthetic volunteer population, their certificates and the mobile groups."""
    from rich.progress import Progress

    from services.api.seed import seed_volunteers as run_seed
    from shared.db import build_engine

    async def main() -> None:
        engine = build_engine(_bulk(Settings()), application_name="jedel-seed")
        try:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("seeding volunteers", total=count)
                report = await run_seed(
                    engine,
                    count=count,
                    today=date.today(),
                    seed=seed,
                    progress=lambda done: progress.update(task, completed=done),
                )
        finally:
            await engine.dispose()
        console.print(f"[green]{report}[/]")

    asyncio.run(main())


@app.command()
def run(
    service: Annotated[str, typer.Argument(help=f"one of: {', '.join(SERVICES)}, simulator")],
) -> None:
    """Run one service in the foreground (JSON logs in production or with JEDEL_LOG_FORMAT=json)."""
    from shared import heap
    from shared.logs import configure_logging

    if service in METRICS_PORTS:
        os.environ.setdefault("JEDEL_METRICS_PORT", str(METRICS_PORTS[service]))
    settings = Settings()
    configure_logging(service, level=settings.log_level, json_lines=settings.json_logs)
    if service in BROKER_SERVICES:
        module = importlib.import_module(f"services.{service}.main")
        application = module.create_app()
        application.after_startup(heap.settle)  # started: what it holds now it holds for good
        asyncio.run(application.run())
    elif service == "api":
        import uvicorn

        from services.api.main import create_app as create_api
        from services.api.settings import ApiSettings

        api_settings = ApiSettings()
        api = create_api(api_settings)
        heap.settle()  # built (its connections open in its lifespan): what it holds it holds
        uvicorn.run(
            api,
            host=api_settings.api.host,
            port=api_settings.api.port,
            log_config=None,  # uvicorn's lines go through the handler configured above
        )
    else:
        raise typer.BadParameter(
            f"unknown service {service!r}; choose one of {', '.join(SERVICES)}"
        )


@app.command()
def up(
    simulate: Annotated[
        bool, typer.Option(help="also start simulated volunteers who answer offers (demo only)")
    ] = False,
) -> None:
    """Start every service in the background (logs in .run/)."""
    processes.up(console, simulate=simulate)


@app.command()
def down() -> None:
    """Stop the services `jedel up` started."""
    processes.down(console)


@app.command()
def publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    topic: Annotated[str, typer.Option(help="alerts.cap.v1 or alerts.missing_person.v1")] = "",
    key: Annotated[str | None, typer.Option(help="message key")] = None,
) -> None:
    """Publish a file as one message (CAP XML goes to alerts.cap.v1, JSON to the missing-person topic)."""
    from services.cli.publishing import AlertPublisher
    from shared.events import topics as names

    chosen = topic or (names.ALERTS_CAP if file.suffix == ".xml" else names.ALERTS_MISSING_PERSON)

    async def main() -> None:
        broker = AlertPublisher(Settings().kafka)
        await broker.connect()
        try:
            await broker.publish(file.read_bytes(), chosen, key=key.encode() if key else None)
        finally:
            await broker.stop()

    asyncio.run(main())
    console.print(f"published {file.name} to {chosen}")


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    lang: Annotated[str, typer.Option(help="kk, ru or en")] = "kk",
) -> None:
    """Check a CAP file as the intake would (sender registry included), and say what it becomes."""
    from services.cli.validating import verdict

    said = verdict(file.read_bytes(), language=lang)
    for line in said.lines:
        console.print(line)
    raise typer.Exit(0 if said.accepted else 1)


@app.command("explain")
def explain_incident(
    incident: Annotated[UUID, typer.Argument(help="the incident id")],
    volunteer: Annotated[UUID | None, typer.Option(help="only this volunteer")] = None,
    lang: Annotated[str, typer.Option(help="kk, ru or en")] = "kk",
) -> None:
    """Why each volunteer was or was not asked for an incident's group."""
    from services.cli.explain import explain

    found = asyncio.run(
        explain(incident, settings=Settings(), console=console, language=lang, volunteer=volunteer)
    )
    if not found:
        raise typer.Exit(1)


@accounts_app.command("add")
def accounts_add(
    username: Annotated[str, typer.Argument(help="what they sign in with")],
    role: Annotated[str, typer.Option(help="dispatcher, coordinator, analyst or admin")],
    region: Annotated[
        list[str] | None, typer.Option(help="ISO 3166-2 code, repeatable (KZ-39)")
    ] = None,
    name: Annotated[str, typer.Option(help="shown in the console")] = "",
    password_stdin: Annotated[
        bool, typer.Option(help="read the password from stdin instead of generating one")
    ] = False,
    reset: Annotated[bool, typer.Option(help="set a new password on an existing account")] = False,
) -> None:
    """Add a staff account (a generated password is printed once)."""
    import sys

    from services.api.auth.principals import AccountRole
    from services.api.auth.staff import AccountError, add_staff, new_password
    from shared.db import build_engine, build_sessionmaker
    from shared.events.base import utc_now

    try:
        chosen = AccountRole(role)
    except ValueError:
        console.print(f"[red]no role {role!r}[/]: dispatcher, coordinator, analyst or admin")
        raise typer.Exit(2) from None
    password = sys.stdin.readline().rstrip("\n") if password_stdin else new_password()

    async def main() -> None:
        engine = build_engine(Settings().database, application_name="jedel-cli")
        try:
            async with build_sessionmaker(engine)() as session, session.begin():
                account = await add_staff(
                    session,
                    username=username,
                    role=chosen,
                    regions=region or [],
                    password=password,
                    display_name=name,
                    now=utc_now(),
                    replace_password=reset,
                )
        finally:
            await engine.dispose()
        console.print(
            f"{account.role.value} [bold]{account.username}[/]"
            + (f" in {', '.join(account.regions)}" if account.regions else "")
        )
        if not password_stdin:
            console.print(f"password (shown once): [bold]{password}[/]")

    try:
        asyncio.run(main())
    except (AccountError, ValueError) as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None


@accounts_app.command("list")
def accounts_list() -> None:
    """Staff accounts, their roles and regions."""
    from services.api.auth.staff import list_staff
    from shared.db import build_engine, build_sessionmaker

    async def main() -> None:
        engine = build_engine(Settings().database, application_name="jedel-cli")
        try:
            async with build_sessionmaker(engine)() as session:
                for account in await list_staff(session):
                    state = " (disabled)" if account.disabled else ""
                    regions = ",".join(account.regions) or "-"
                    console.print(f"{account.username}\t{account.role.value}\t{regions}{state}")
        finally:
            await engine.dispose()

    asyncio.run(main())


@accounts_app.command("disable")
def accounts_disable(username: Annotated[str, typer.Argument()]) -> None:
    """Disable an account; its sessions end at once."""
    from services.api.auth.staff import AccountError, disable
    from shared.db import build_engine, build_sessionmaker
    from shared.events.base import utc_now

    async def main() -> int:
        engine = build_engine(Settings().database, application_name="jedel-cli")
        try:
            async with build_sessionmaker(engine)() as session, session.begin():
                return await disable(session, username, now=utc_now())
        finally:
            await engine.dispose()

    try:
        ended = asyncio.run(main())
    except AccountError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None
    console.print(f"{username} disabled; {ended} session(s) ended")


@app.command()
def demo(
    timeout: Annotated[float, typer.Option(help="seconds to wait for every alert")] = 60.0,
    linger: Annotated[
        float, typer.Option(help="seconds the flood stays open after its group is complete")
    ] = 0.0,
) -> None:
    """Publish sample alerts and show each become an incident (or a dead letter)."""
    from services.cli.demo import run_demo

    ok = asyncio.run(run_demo(Settings(), console=console, timeout_s=timeout, linger_s=linger))
    raise typer.Exit(0 if ok else 1)
