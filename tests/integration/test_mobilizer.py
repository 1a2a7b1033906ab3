"""The mobilizer running for real: incidents in, waves of offers out, answers fill the group."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from geoalchemy2.shape import from_shape
from redis.asyncio import Redis
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.seed import seed_reference
from services.api.tables import CertificationRow, VolunteerRow
from services.mobilizer.candidates import CandidatePool, nearest_candidates
from services.mobilizer.dispatch import Matching
from services.mobilizer.main import SWEEP_MAX_DELAY_S, MobilizerService, build_matching
from services.mobilizer.playbooks import Playbook, Playbooks
from services.mobilizer.ranking import GeodesicRouter
from services.mobilizer.settings import MobilizerOptions, MobilizerSettings
from shared.broker_access import ADMIN
from shared.db import build_sessionmaker
from shared.events import topics
from shared.events.incidents import (
    AlertStatus,
    IncidentCancelled,
    IncidentOpened,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    IncidentUpdated,
    Priority,
)
from shared.events.mobilization import Answer, RespondToOffer
from shared.events.volunteers import CertificationType, Role, TransportMode
from shared.kafka import build_broker
from shared.positions import LivePositions
from shared.settings import DatabaseSettings, KafkaSettings, RedisSettings
from tests.factories import FLOOD_DAY, FakeClock, new_run
from tests.kafka_tail import Record, Tail, eventually
from tests.running import from_the_end, positioned

pytestmark = pytest.mark.integration
KOSTANAY = (63.6246, 53.2144)
MOBILIZER_TABLES = "commitments, offers, mobilizations, mobilizer_outbox, mobilizer_inbox"


def small_flood_playbooks() -> Playbooks:
    """The shipped playbooks, with flood groups small enough to fill by hand (high: a leader and
    two medics; critical: four medics; low: a leader alone; medium: a leader who must arrive
    within 1,000 s)."""
    real = build_matching(MobilizerSettings()).playbooks

    def small(priority: Priority, roles: tuple[tuple[Role, int], ...]) -> Playbook:
        return dataclasses.replace(
            real.for_incident(IncidentType.FLOOD, priority),
            roles=roles,
            first_radius_m=5_000,
            max_radius_m=20_000,
            offer_timeout_s=120,
            deadline_s=1_800,
            target_fill_probability=0.9,
            max_offers_per_role_per_wave=3,
        )

    return Playbooks(
        roles=real.roles,
        table={
            **real.table,
            (IncidentType.FLOOD, Priority.HIGH): small(
                Priority.HIGH, ((Role.LEADER, 1), (Role.MEDIC, 2))
            ),
            (IncidentType.FLOOD, Priority.CRITICAL): small(
                Priority.CRITICAL, ((Role.LEADER, 1), (Role.MEDIC, 4))
            ),
            (IncidentType.FLOOD, Priority.LOW): small(Priority.LOW, ((Role.LEADER, 1),)),
            # A leader who must be there within 1,000 s of the alert: 12 km by car is too far.
            (IncidentType.FLOOD, Priority.MEDIUM): dataclasses.replace(
                small(Priority.MEDIUM, ((Role.LEADER, 1),)), deadline_s=1_000, arrival_allowance_s=0
            ),
        },
    )


@dataclasses.dataclass
class Person:
    name: str
    km_east: float
    certificates: tuple[tuple[str, date, date], ...]
    born: date = date(1990, 5, 1)
    id: uuid.UUID = dataclasses.field(default_factory=uuid.uuid4)


VALID = (date(2025, 1, 1), date(2028, 1, 1))
EXPIRED = (date(2023, 3, 1), date(2026, 3, 1))  # lapsed a month before the flood
PEOPLE = [
    Person("leader-near", 1.0, (("team_leader", *VALID), ("first_aid", *VALID))),
    Person("leader-far", 12.0, (("team_leader", *VALID),)),
    Person("medic-1", 0.5, (("first_aid", *VALID),)),
    Person("medic-2", 1.5, (("first_aid", *VALID),)),
    Person("medic-3", 2.5, (("first_aid", *VALID),)),
    Person("medic-4", 3.5, (("first_aid", *VALID),)),
    Person("medic-5", 4.5, (("first_aid", *VALID),)),
    Person("medic-expired", 0.2, (("first_aid", *EXPIRED),)),
    Person("medic-minor", 0.3, (("first_aid", *VALID),), born=date(2010, 1, 1)),
    Person("dog-handler", 0.4, (("dog_handler", *VALID),)),  # no role a flood group needs
]


async def place_population(
    engine: AsyncEngine, people: list[Person], *, phone_prefix: str = "+7701"
) -> dict[str, uuid.UUID]:
    """Replace the volunteers with `people`, living east of Kostanay city, and clear the
    mobilizer's tables."""
    await seed_reference(engine)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {MOBILIZER_TABLES} CASCADE"))
        await connection.execute(
            text("TRUNCATE volunteers, certifications, mobile_groups, mobile_group_members CASCADE")
        )
    sessions = build_sessionmaker(engine)
    async with sessions() as session, session.begin():
        for index, person in enumerate(people):
            lon = KOSTANAY[0] + person.km_east / 66.5  # ~66.5 km per degree of longitude here
            session.add(
                VolunteerRow(
                    id=person.id,
                    full_name=person.name,
                    phone=f"{phone_prefix}{index:07d}",
                    birth_date=person.born,
                    languages=["kk", "ru"],
                    organisation=None,
                    region_code="KZ-39",
                    home=from_shape(Point(lon, KOSTANAY[1]), srid=4326),
                    transport_mode="car",
                    availability="available",
                )
            )
        await session.flush()
        for person in people:
            for kind, issued, expires in person.certificates:
                session.add(
                    CertificationRow(
                        volunteer_id=person.id, type=kind, issued_on=issued, expires_on=expires
                    )
                )
    return {person.name: person.id for person in people}


@pytest.fixture(scope="module")
async def population(engine: AsyncEngine) -> dict[str, uuid.UUID]:
    return await place_population(engine, PEOPLE)


@pytest.fixture(scope="module")
async def clock() -> FakeClock:
    return FakeClock(FLOOD_DAY)


@pytest.fixture(scope="module")
async def positions(redis_settings: RedisSettings) -> AsyncIterator[LivePositions]:
    """Live positions of this module's own, in the tests' Redis database."""
    redis = Redis.from_url(redis_settings.url)
    store = LivePositions(redis, prefix=f"test:{new_run()}:positions")
    yield store
    await redis.delete(store.geo_key, store.at_key)
    await redis.aclose()


@pytest.fixture(scope="module")
async def mobilizer(
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    redis_settings: RedisSettings,
    population: dict[str, uuid.UUID],
    positions: LivePositions,
    clock: FakeClock,
) -> AsyncIterator[MobilizerService]:
    settings = MobilizerSettings(
        database=database_settings,
        kafka=from_the_end(kafka_settings),
        redis=redis_settings,
        mobilizer=MobilizerOptions(
            group_id=f"jedel-mobilizer-{new_run()}",
            sweep_interval_s=3600,
            # Every test asks the same ten people again on the same (fake) day.
            max_offers_per_day=1000,
            max_offers_per_week=1000,
        ),
    )
    base = build_matching(settings)
    matching = Matching(
        playbooks=small_flood_playbooks(),
        router=base.router,
        model=base.model,
        rules=base.rules,
        positions=positions,
    )
    service = MobilizerService(settings, clock=clock, matching=matching)
    await service.start()
    await positioned(service.broker)
    yield service
    await service.stop()


@pytest.fixture(scope="module")
async def tail(kafka_settings: KafkaSettings, mobilizer: MobilizerService) -> AsyncIterator[Tail]:
    opened = await Tail.open(kafka_settings, (topics.MOBILIZATION,))
    yield opened
    await opened.close()


@pytest.fixture
async def publish(kafka_settings: KafkaSettings) -> AsyncIterator[Any]:
    broker = build_broker(kafka_settings, principal=ADMIN)
    await broker.connect()

    async def send(topic: str, key: uuid.UUID, event: Any) -> None:
        await broker.publish(
            event.model_dump_json().encode(),
            topic,
            key=str(key).encode(),
            headers={"event_type": type(event).__name__},
        )

    yield send
    await broker.stop()


def flood(now: datetime, **changes: Any) -> IncidentOpened:
    lon, lat = KOSTANAY
    facts: dict[str, Any] = {
        "incident_id": uuid.uuid4(),
        "type": IncidentType.FLOOD,
        "priority": Priority.HIGH,
        "status": IncidentStatus.OPEN,
        "alert_status": AlertStatus.ACTUAL,
        "is_exercise": False,
        "source": IncidentSource.CAP,
        "area": {"type": "MultiPolygon", "coordinates": []},
        "area_km2": 10.0,
        "center_lon": lon,
        "center_lat": lat,
        "region_codes": ("KZ-39",),
        "opened_at": now,
    }
    facts.update(changes)
    return IncidentOpened(**facts)


# Past the playbooks' answer time (120 s): every offer still unanswered has lapsed.
OFFER_LAPSED = timedelta(seconds=121)


def of(incident: uuid.UUID, kind: str) -> Any:
    def matches(record: Record) -> bool:
        return record.key == str(incident).encode() and json.loads(record.value).get("kind") == kind

    return matches


def payloads(tail: Tail, incident: uuid.UUID, kind: str) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in tail.records if of(incident, kind)(r)]


async def first_wave(publish: Any, tail: Tail, incident: IncidentOpened) -> list[dict[str, Any]]:
    """Open the incident; its first wave's offers once the wave is sent."""
    await publish(topics.INCIDENTS, incident.incident_id, incident)
    await tail.wait_for(of(incident.incident_id, "WaveSent"))
    return payloads(tail, incident.incident_id, "VolunteerOffered")


async def answer(
    publish: Any, offer: dict[str, Any], reply: Answer, *, at: datetime | None = None
) -> None:
    """The volunteer's answer, given `at` (by default now on the real clock)."""
    incident = uuid.UUID(offer["incident_id"])
    given = {"occurred_at": at} if at is not None else {}
    await publish(
        topics.RESPONSES,
        incident,
        RespondToOffer(
            incident_id=incident,
            offer_id=uuid.UUID(offer["offer_id"]),
            volunteer_id=uuid.UUID(offer["volunteer_id"]),
            answer=reply,
            **given,
        ),
    )


async def explained(engine: AsyncEngine, incident_id: uuid.UUID) -> None:
    """Wait until the incident's first wave has its explanations written."""

    async def written() -> bool:
        async with engine.connect() as connection:
            query = text("SELECT EXISTS (SELECT 1 FROM explanations WHERE incident_id = :i)")
            return bool(await connection.scalar(query, {"i": incident_id}))

    await eventually(written, timeout_s=10)


async def test_first_wave_asks_the_nearest_eligible_and_never_the_expired_or_the_minor(
    mobilizer: MobilizerService,
    tail: Tail,
    publish: Any,
    population: dict[str, uuid.UUID],
    clock: FakeClock,
) -> None:
    incident = flood(clock())
    offers = await first_wave(publish, tail, incident)
    asked = {offer["volunteer_id"] for offer in offers}
    assert str(population["medic-expired"]) not in asked
    assert str(population["medic-minor"]) not in asked
    roles = {offer["role"] for offer in offers}
    assert roles == {"leader", "medic"}
    leaders = [o for o in offers if o["role"] == "leader"]
    assert leaders[0]["volunteer_id"] == str(population["leader-near"])
    # One leader within 5 km is unlikely to say yes: the wave reaches the one 12 km away at once
    # rather than after a timeout, still nearest first.
    assert [o["volunteer_id"] for o in leaders] == [
        str(population["leader-near"]),
        str(population["leader-far"]),
    ]
    medics = sorted((o for o in offers if o["role"] == "medic"), key=lambda o: o["eta_s"])
    assert medics[0]["volunteer_id"] == str(population["medic-1"]), "nearest valid medic first"
    assert all(o["contact_phone"].startswith("+7") for o in offers)
    # A first wave's explanations are written just after its offers are out.
    await explained(mobilizer.engine, incident.incident_id)
    async with mobilizer.engine.connect() as connection:
        why = {
            row.volunteer_id: row
            for row in await connection.execute(
                text("SELECT * FROM explanations WHERE incident_id = :i"),
                {"i": incident.incident_id},
            )
        }
    assert "certificate_expired" in why[population["medic-expired"]].reasons
    assert "minor" in why[population["medic-minor"]].reasons
    assert why[population["medic-1"]].outcome == "asked"
    minor = why[population["medic-minor"]].findings
    assert any(f["reason"] == "minor" and f["age_years"] < 18 for f in minor), (
        "the facts behind the sentence are kept, the age with the reason"
    )


async def test_nobody_is_asked_who_cannot_arrive_in_time_and_the_wave_reports_its_budget(
    mobilizer: MobilizerService,
    tail: Tail,
    publish: Any,
    population: dict[str, uuid.UUID],
    clock: FakeClock,
) -> None:
    incident = flood(clock(), priority=Priority.MEDIUM)
    await publish(topics.INCIDENTS, incident.incident_id, incident)
    [wave] = await tail.wait_for(of(incident.incident_id, "WaveSent"))
    offers = payloads(tail, incident.incident_id, "VolunteerOffered")
    assert [o["volunteer_id"] for o in offers] == [str(population["leader-near"])]
    sent = json.loads(wave.value)
    assert sent["offers_sent"] == 1
    assert (
        sent["offer_budget"]
        == mobilizer.matching.playbooks.for_incident(
            IncidentType.FLOOD, Priority.MEDIUM
        ).offer_budget()
    )
    assert sent["expected_complete_at"] is not None
    await explained(mobilizer.engine, incident.incident_id)
    async with mobilizer.engine.connect() as connection:
        far = (
            await connection.execute(
                text(
                    "SELECT outcome, eta_s, latest_eta_s FROM explanations "
                    "WHERE incident_id = :i AND volunteer_id = :v"
                ),
                {"i": incident.incident_id, "v": population["leader-far"]},
            )
        ).one()
        budget = (
            await connection.execute(
                text("SELECT offer_budget, offers_sent FROM mobilizations WHERE incident_id = :i"),
                {"i": incident.incident_id},
            )
        ).one()
    assert far.outcome == "too_late"
    assert far.eta_s > far.latest_eta_s == 1_000
    assert (budget.offer_budget, budget.offers_sent) == (sent["offer_budget"], 1)
    await publish(topics.INCIDENTS, incident.incident_id, cancellation(incident))
    await tail.wait_for(of(incident.incident_id, "OfferStoodDown"))


async def test_incidents_arriving_together_are_each_mobilised_once_and_in_their_own_order(
    mobilizer: MobilizerService, tail: Tail, publish: Any, clock: FakeClock
) -> None:
    """A burst is handled side by side, one lane per incident: none is lost or doubled, and an
    incident's cancellation right behind its opening is still decided after it."""
    incidents = [flood(clock()) for _ in range(6)]
    cancelled = incidents[:2]
    for incident in incidents:
        await publish(topics.INCIDENTS, incident.incident_id, incident)
        if incident in cancelled:
            await publish(topics.INCIDENTS, incident.incident_id, cancellation(incident))
    for incident in incidents:
        await tail.wait_for(of(incident.incident_id, "WaveSent"))
    for incident in cancelled:
        asked = payloads(tail, incident.incident_id, "VolunteerOffered")
        await tail.wait_for(of(incident.incident_id, "OfferStoodDown"), count=len(asked))

    for incident in incidents:
        assert len(payloads(tail, incident.incident_id, "MobilizationStarted")) == 1
        [first] = payloads(tail, incident.incident_id, "WaveSent")
        assert first["wave"] == 1
        asked = payloads(tail, incident.incident_id, "VolunteerOffered")
        assert len({o["volunteer_id"] for o in asked}) == len(asked), "nobody asked twice"
    for incident in cancelled:
        stood_down = payloads(tail, incident.incident_id, "OfferStoodDown")
        assert {o["reason"] for o in stood_down} == {"incident_cancelled"}
    for incident in incidents[2:]:
        await publish(topics.INCIDENTS, incident.incident_id, cancellation(incident))
    for incident in incidents[2:]:
        asked = payloads(tail, incident.incident_id, "VolunteerOffered")
        await tail.wait_for(of(incident.incident_id, "OfferStoodDown"), count=len(asked))


def cancellation(incident: IncidentOpened) -> IncidentCancelled:
    facts = incident.model_dump(exclude={"event_id", "occurred_at", "kind", "status"})
    return IncidentCancelled(**facts, status=IncidentStatus.CANCELLED)


async def test_group_completes_and_the_remaining_offers_are_stood_down(
    mobilizer: MobilizerService, tail: Tail, publish: Any, clock: FakeClock
) -> None:
    incident = flood(clock())
    offers = await first_wave(publish, tail, incident)
    leader = next(o for o in offers if o["role"] == "leader")
    medics = [o for o in offers if o["role"] == "medic"]
    assert len(medics) >= 3, "low acceptance estimates ask more people than places"
    for offer in (leader, medics[0], medics[1]):
        await answer(publish, offer, Answer.ACCEPT)
    [done] = await tail.wait_for(of(incident.incident_id, "GroupCompleted"))
    members = {m["volunteer_id"] for m in json.loads(done.value)["members"]}
    assert members == {leader["volunteer_id"], medics[0]["volunteer_id"], medics[1]["volunteer_id"]}
    # Everyone else still asked is told they are not needed: the leaders' spare offer as soon as
    # the leader place was taken, the remaining medics when the group completed.
    stood_down = await tail.wait_for(
        of(incident.incident_id, "OfferStoodDown"), count=len(offers) - 3
    )
    reasons = {
        json.loads(r.value)["volunteer_id"]: json.loads(r.value)["reason"] for r in stood_down
    }
    assert set(reasons) == {o["volunteer_id"] for o in offers} - members
    assert set(reasons.values()) <= {"role_filled", "group_complete"}
    # A late "yes" after the group is complete changes nothing and is told so.
    await answer(publish, medics[2], Answer.ACCEPT)
    [late] = await tail.wait_for(of(incident.incident_id, "ResponseRefused"))
    assert json.loads(late.value)["reason"] == "offer_closed"
    # Free them again for the next tests.
    facts = incident.model_dump(exclude={"event_id", "occurred_at", "kind", "status"})
    cancel = IncidentCancelled(**facts, status=IncidentStatus.CANCELLED)
    await publish(topics.INCIDENTS, incident.incident_id, cancel)
    await eventually(lambda: _released(mobilizer, incident.incident_id))


async def _released(mobilizer: MobilizerService, incident: uuid.UUID) -> bool:
    async with mobilizer.engine.connect() as connection:
        still_open = await connection.scalar(
            text("SELECT count(*) FROM commitments WHERE incident_id = :i AND released_at IS NULL"),
            {"i": incident},
        )
    return bool(still_open == 0)


async def test_a_decline_is_replaced_and_a_timeout_too(
    mobilizer: MobilizerService, tail: Tail, publish: Any, clock: FakeClock
) -> None:
    incident = flood(clock())
    first = await first_wave(publish, tail, incident)
    medic = next(o for o in first if o["role"] == "medic")
    await answer(publish, medic, Answer.DECLINE)
    [declined] = await tail.wait_for(of(incident.incident_id, "OfferDeclined"))
    waves = await tail.wait_for(of(incident.incident_id, "WaveSent"), count=2)
    second_wave = json.loads(waves[1].value)
    assert set(second_wave["offers"]) == {"medic"}, "only the declined role is asked again"
    replacements = payloads(tail, incident.incident_id, "VolunteerOffered")[len(first) :]
    assert len(replacements) == second_wave["offers"]["medic"]
    assert not {o["volunteer_id"] for o in replacements} & {o["volunteer_id"] for o in first}
    # Nobody answers: after the offer timeout the sweep times everyone out and asks again.
    with clock.ahead(OFFER_LAPSED):
        await mobilizer.sweep()
    pending = len(first) - 1 + len(replacements)
    timed_out = await tail.wait_for(of(incident.incident_id, "OfferTimedOut"), count=pending)
    assert declined.key == str(incident.incident_id).encode()
    assert len(timed_out) == pending, "every unanswered offer times out, none twice"


async def test_a_sweep_that_stops_early_leaves_the_timed_out_incident_due_for_the_next(
    mobilizer: MobilizerService, tail: Tail, publish: Any, clock: FakeClock
) -> None:
    incident = flood(clock(), incident_id=uuid.uuid4())
    offers = await first_wave(publish, tail, incident)
    with clock.ahead(OFFER_LAPSED):
        # An incident arrives just as the timers fire: the sweep times the offers out but stops
        # before asking anyone new.
        await mobilizer.sweep(until=lambda: True)
        await tail.wait_for(of(incident.incident_id, "OfferTimedOut"), count=len(offers))
        async with mobilizer.engine.connect() as connection:
            wave, due = (
                await connection.execute(
                    text(
                        "SELECT wave, next_wave_at <= :now FROM mobilizations"
                        " WHERE incident_id = :i"
                    ),
                    {"i": incident.incident_id, "now": clock()},
                )
            ).one()
        assert (wave, due) == (1, True), "no new wave yet, but one is due"
        # The next sweep asks the next people, even while the first wave's explanations are
        # being written (their inserts hold a key-share lock on the mobilisation's row).
        async with mobilizer.engine.connect() as explaining, explaining.begin():
            await explaining.execute(
                text("SELECT 1 FROM mobilizations WHERE incident_id = :i FOR KEY SHARE"),
                {"i": incident.incident_id},
            )
            await mobilizer.sweep()
        waves = await tail.wait_for(of(incident.incident_id, "WaveSent"), count=2)
    assert json.loads(waves[1].value)["wave"] == 2
    asked_again = payloads(tail, incident.incident_id, "VolunteerOffered")[len(offers) :]
    assert asked_again, "the second sweep asked someone new"
    assert not {o["volunteer_id"] for o in asked_again} & {o["volunteer_id"] for o in offers}


async def test_under_load_that_never_lets_up_the_sweep_waits_its_longest_then_finishes(
    mobilizer: MobilizerService, tail: Tail, publish: Any, clock: FakeClock
) -> None:
    incident = flood(clock(), incident_id=uuid.uuid4())
    offers = await first_wave(publish, tail, incident)
    workload = mobilizer.workload
    with clock.ahead(OFFER_LAPSED), workload.busy():
        # An incident in hand, and more behind it, for as long as this lasts.
        mobilizer._swept_at = workload.clock() - 1.0
        assert await mobilizer.sweep_when_quiet() == 0, "the re-plans wait while it is busy"
        mobilizer._swept_at = workload.clock() - SWEEP_MAX_DELAY_S
        written = await mobilizer.sweep_when_quiet()
        timed_out = await tail.wait_for(
            of(incident.incident_id, "OfferTimedOut"), count=len(offers)
        )
        waves = await tail.wait_for(of(incident.incident_id, "WaveSent"), count=2)
    assert written > len(timed_out), "busy as it still was, the overdue sweep also re-planned"
    assert json.loads(waves[1].value)["wave"] == 2


async def test_a_yes_given_in_time_counts_even_when_it_arrives_after_the_timeout(
    mobilizer: MobilizerService, tail: Tail, publish: Any, clock: FakeClock
) -> None:
    incident = flood(clock(), incident_id=uuid.uuid4())
    offers = await first_wave(publish, tail, incident)
    leader, medic = (next(o for o in offers if o["role"] == role) for role in ("leader", "medic"))
    given_in_time = clock() + timedelta(seconds=100)  # the offer lapses at 120 s
    with clock.ahead(OFFER_LAPSED):
        await mobilizer.sweep()  # the timer fires before the answers reach the mobilizer
        await tail.wait_for(of(incident.incident_id, "OfferTimedOut"), count=len(offers))
        await answer(publish, leader, Answer.ACCEPT, at=given_in_time)
        await answer(publish, medic, Answer.ACCEPT, at=clock())  # given after the lapse
        [accepted] = await tail.wait_for(of(incident.incident_id, "OfferAccepted"))
        [refused] = await tail.wait_for(of(incident.incident_id, "ResponseRefused"))
    assert json.loads(accepted.value)["offer_id"] == leader["offer_id"]
    late = json.loads(refused.value)
    assert (late["offer_id"], late["reason"]) == (medic["offer_id"], "offer_closed")
    async with mobilizer.engine.connect() as connection:
        leaders = await connection.scalar(
            text("SELECT count(*) FROM commitments WHERE incident_id = :i AND role = 'leader'"),
            {"i": incident.incident_id},
        )
    assert leaders == 1, "the leader who said yes in time has the place"


async def test_a_resolved_search_stands_everyone_down_and_frees_the_accepted(
    mobilizer: MobilizerService, tail: Tail, publish: Any, clock: FakeClock
) -> None:
    incident = flood(clock(), incident_id=uuid.uuid4())
    offers = await first_wave(publish, tail, incident)
    leader = next(o for o in offers if o["role"] == "leader")
    await answer(publish, leader, Answer.ACCEPT)
    await tail.wait_for(of(incident.incident_id, "OfferAccepted"))

    facts = incident.model_dump(exclude={"event_id", "occurred_at", "kind", "status"})
    found = IncidentUpdated(**{**facts, "version": 2}, status=IncidentStatus.RESOLVED)
    await publish(topics.INCIDENTS, incident.incident_id, found)

    stood_down = await tail.wait_for(of(incident.incident_id, "OfferStoodDown"), count=len(offers))
    assert {json.loads(r.value)["reason"] for r in stood_down} == {"incident_resolved"}
    told = {
        json.loads(r.value)["volunteer_id"]: json.loads(r.value)["was_member"] for r in stood_down
    }
    assert told[leader["volunteer_id"]] is True, "the leader on his way is told the search is over"
    assert sum(told.values()) == 1, "the others had not accepted"
    assert await eventually(lambda: _released(mobilizer, incident.incident_id)), (
        "the leader on the way is released too"
    )


async def test_where_a_volunteer_is_now_counts_more_than_where_they_live(
    mobilizer: MobilizerService,
    tail: Tail,
    publish: Any,
    clock: FakeClock,
    population: dict[str, uuid.UUID],
    positions: LivePositions,
) -> None:
    """The leader living 12 km away reported a fix from the flooded street five minutes ago."""
    lon, lat = KOSTANAY
    far = population["leader-far"]
    await positions.record(
        far, longitude=lon + 0.001, latitude=lat, recorded_at=clock() - timedelta(minutes=5)
    )
    try:
        incident = flood(clock(), incident_id=uuid.uuid4())
        await publish(topics.INCIDENTS, incident.incident_id, incident)
        await tail.wait_for(of(incident.incident_id, "WaveSent"))
    finally:
        await positions.forget_before(clock() + timedelta(days=1))
    leaders = {
        o["volunteer_id"]: o
        for o in payloads(tail, incident.incident_id, "VolunteerOffered")
        if o["role"] == "leader"
    }
    assert leaders[str(far)]["distance_m"] < 200, "measured from where he is"
    from_home = min(GeodesicRouter().eta_for_distance_s(12_000, mode) for mode in TransportMode)
    assert leaders[str(far)]["eta_s"] < from_home
    facts = incident.model_dump(exclude={"event_id", "occurred_at", "kind", "status"})
    cancel = IncidentCancelled(**facts, status=IncidentStatus.CANCELLED)
    await publish(topics.INCIDENTS, incident.incident_id, cancel)
    await eventually(lambda: _released(mobilizer, incident.incident_id))


async def medics_near_kostanay(
    mobilizer: MobilizerService,
    clock: FakeClock,
    limit: int,
    positions: LivePositions | None = None,
) -> CandidatePool:
    """The nearest first-aid holders as a wave for medics sees them (live ones within 50 km)."""
    lon, lat = KOSTANAY
    async with mobilizer.sessionmaker() as session:
        return await nearest_candidates(
            session,
            lon=lon,
            lat=lat,
            roles={Role.MEDIC: (CertificationType.FIRST_AID,)},
            asked=(),
            day=clock().date(),
            now=clock(),
            limit=limit,
            positions=positions,
            live_within_m=50_000,
        )


async def test_matching_carries_on_from_homes_when_redis_is_away(
    mobilizer: MobilizerService, population: dict[str, uuid.UUID], clock: FakeClock
) -> None:
    away = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    try:
        pool = await medics_near_kostanay(mobilizer, clock, 3, LivePositions(away))
    finally:
        await away.aclose()
    nearest = [n.candidate.volunteer_id for n in pool.within(Role.MEDIC, 50_000)]
    assert nearest == [population[name] for name in ("medic-expired", "medic-minor", "medic-1")]


async def test_a_list_thinned_by_someone_who_stopped_volunteering_proves_no_shortage(
    mobilizer: MobilizerService, population: dict[str, uuid.UUID], clock: FakeClock
) -> None:
    """A wave that finds fewer people than it looked for flags the group understaffed at once,
    unless more holders may lie beyond: the nearest medic has stopped volunteering, so the three
    nearest first-aid holders leave two on the list, and that is no proof there are no more."""

    async def medics(limit: int) -> tuple[list[uuid.UUID], bool]:
        pool = await medics_near_kostanay(mobilizer, clock, limit)
        listed = [n.candidate.volunteer_id for n in pool.within(Role.MEDIC, 50_000)]
        return listed, pool.saw_everyone((CertificationType.FIRST_AID,))

    stopped = population["medic-expired"]  # the nearest first-aid holder, 200 m away
    async with mobilizer.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE volunteers SET availability = 'inactive' WHERE id = :id"), {"id": stopped}
        )
    try:
        listed, everyone = await medics(3)
        assert listed == [population["medic-minor"], population["medic-1"]], "never listed"
        assert not everyone, "three holders found, the third looked for: there may be more"
        listed, everyone = await medics(20)  # more than the eight first-aid holders there are
        assert stopped not in listed
        assert everyone, "every holder found: a short list is a real shortage"
    finally:
        async with mobilizer.sessionmaker() as session, session.begin():
            await session.execute(
                text("UPDATE volunteers SET availability = 'available' WHERE id = :id"),
                {"id": stopped},
            )


async def test_a_worse_flood_grows_the_group_and_a_milder_one_stands_the_extra_offers_down(
    mobilizer: MobilizerService, tail: Tail, publish: Any, clock: FakeClock
) -> None:
    incident = flood(clock(), incident_id=uuid.uuid4())
    await publish(topics.INCIDENTS, incident.incident_id, incident)
    await tail.wait_for(of(incident.incident_id, "WaveSent"))
    facts = incident.model_dump(exclude={"event_id", "occurred_at", "kind", "priority", "version"})

    worse = IncidentUpdated(**facts, priority=Priority.CRITICAL, version=2)
    await publish(topics.INCIDENTS, incident.incident_id, worse)
    [grown] = await tail.wait_for(of(incident.incident_id, "GroupResized"))
    waves = await tail.wait_for(of(incident.incident_id, "WaveSent"), count=2)
    medics = {
        o["offer_id"]
        for o in payloads(tail, incident.incident_id, "VolunteerOffered")
        if o["role"] == "medic"
    }
    stale = IncidentUpdated(**facts, priority=Priority.MEDIUM, version=2)  # version 2 again
    await publish(topics.INCIDENTS, incident.incident_id, stale)
    milder = IncidentUpdated(**facts, priority=Priority.LOW, version=3)
    await publish(topics.INCIDENTS, incident.incident_id, milder)
    resized = await tail.wait_for(of(incident.incident_id, "GroupResized"), count=2)
    stood_down = await tail.wait_for(
        lambda r: (
            of(incident.incident_id, "OfferStoodDown")(r)
            and json.loads(r.value)["reason"] == "group_reduced"
        ),
        count=len(medics),
    )

    assert json.loads(grown.value)["needed"] == {"leader": 1, "medic": 4}
    assert json.loads(grown.value)["previous_playbook"] == "flood/high"
    assert json.loads(waves[1].value)["offers"].keys() == {"medic"}, "asks for the new places"
    milder_one = json.loads(resized[1].value)
    assert (milder_one["previous_playbook"], milder_one["playbook"]) == (
        "flood/critical",
        "flood/low",
    ), "an update out of order (medium, version 2 again) changes nothing"
    assert milder_one["needed"] == {"leader": 1}
    reduced = {json.loads(r.value)["offer_id"] for r in stood_down}
    assert reduced == medics, "every medic still asked is told the group was made smaller"
    cancel = IncidentCancelled(
        **incident.model_dump(exclude={"event_id", "occurred_at", "kind", "status"}),
        status=IncidentStatus.CANCELLED,
    )
    await publish(topics.INCIDENTS, incident.incident_id, cancel)
    await eventually(lambda: _released(mobilizer, incident.incident_id))


async def test_concurrent_accepts_for_the_last_place_fill_it_once(
    mobilizer: MobilizerService, tail: Tail, publish: Any, clock: FakeClock
) -> None:
    incident = flood(clock(), incident_id=uuid.uuid4())
    await publish(topics.INCIDENTS, incident.incident_id, incident)
    await tail.wait_for(of(incident.incident_id, "WaveSent"))
    medics = [
        o for o in payloads(tail, incident.incident_id, "VolunteerOffered") if o["role"] == "medic"
    ]
    assert len(medics) >= 3
    await asyncio.gather(*(answer(publish, offer, Answer.ACCEPT) for offer in medics))
    accepted = await tail.wait_for(of(incident.incident_id, "OfferAccepted"), count=2)
    refused = await tail.wait_for(
        of(incident.incident_id, "ResponseRefused"), count=len(medics) - 2
    )
    assert len({json.loads(r.value)["volunteer_id"] for r in accepted}) == 2
    assert {json.loads(r.value)["reason"] for r in refused} <= {"role_filled", "offer_closed"}
    async with mobilizer.engine.connect() as connection:
        places = await connection.scalar(
            text("SELECT count(*) FROM commitments WHERE incident_id = :i AND role = 'medic'"),
            {"i": incident.incident_id},
        )
    assert places == 2


async def test_a_restart_mid_mobilisation_loses_nothing_and_doubles_nothing(
    mobilizer: MobilizerService,
    tail: Tail,
    publish: Any,
    clock: FakeClock,
    database_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
) -> None:
    incident = flood(clock())
    offers = await first_wave(publish, tail, incident)
    await mobilizer.stop()  # the service goes down with every offer out

    # While it is down, one volunteer accepts.
    leader = next(o for o in offers if o["role"] == "leader")
    await answer(publish, leader, Answer.ACCEPT)
    settings = MobilizerSettings(
        database=database_settings,
        kafka=kafka_settings,
        mobilizer=MobilizerOptions(
            group_id=mobilizer.settings.mobilizer.group_id, sweep_interval_s=3600
        ),
    )
    restarted = MobilizerService(settings, clock=clock, matching=mobilizer.matching)
    await restarted.start()
    try:
        await tail.wait_for(of(incident.incident_id, "OfferAccepted"))
        # The answer time runs out only now: a restart's first sweep would otherwise race the
        # answer that waited in the broker.
        clock.advance(OFFER_LAPSED)
        await restarted.sweep()
        await restarted.sweep()  # a second sweep finds nothing left to time out
        # Any other leader is stood down (the place is taken); everyone else times out.
        ended = await tail.wait_for(
            lambda r: (
                of(incident.incident_id, "OfferTimedOut")(r)
                or of(incident.incident_id, "OfferStoodDown")(r)
            ),
            count=len(offers) - 1,
        )
    finally:
        await restarted.stop()
        clock.advance(-OFFER_LAPSED)
        await mobilizer.start()
    accepted = payloads(tail, incident.incident_id, "OfferAccepted")
    assert [a["offer_id"] for a in accepted] == [leader["offer_id"]], (
        "the answer sent while down counts once"
    )
    ended_ids = [json.loads(r.value)["offer_id"] for r in ended]
    assert len(ended_ids) == len(set(ended_ids)) == len(offers) - 1, "every offer ends once"
    assert set(ended_ids) == {o["offer_id"] for o in offers} - {leader["offer_id"]}
    async with mobilizer.engine.connect() as connection:
        counts = (
            await connection.execute(
                text(
                    "SELECT count(*) AS offers, count(DISTINCT volunteer_id) AS people "
                    "FROM offers WHERE incident_id = :i"
                ),
                {"i": incident.incident_id},
            )
        ).one()
    assert counts.offers == counts.people, "nobody offered twice"
