"""Seeding PostGIS: reference geography upserted, the synthetic population replaced, not added to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.seed import SeedReport, seed_reference, seed_volunteers
from services.api.seed.groups import ROLE_CERTIFICATION
from shared.events.volunteers import CertificationType

pytestmark = pytest.mark.integration

TODAY = date(2025, 11, 25)
COUNT = 5_000
KOSTANAY_CITY = "SRID=4326;POINT(63.6246 53.2144)"
POPULATION_TABLES = "mobile_group_members, mobile_groups, certifications, volunteers"


@pytest.fixture(scope="module")
async def seeded(engine: AsyncEngine) -> AsyncIterator[SeedReport]:
    await seed_reference(engine)
    written: list[int] = []
    report = await seed_volunteers(
        engine, count=COUNT, today=TODAY, seed=7, batch_size=2_000, progress=written.append
    )
    assert written == [2_000, 4_000, 5_000]
    yield report
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {POPULATION_TABLES} RESTART IDENTITY CASCADE"))


async def scalar(engine: AsyncEngine, sql: str, **params: object) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar_one()


async def test_reference_is_upserted_idempotently(engine: AsyncEngine, seeded: SeedReport) -> None:
    await seed_reference(engine)
    assert await scalar(engine, "SELECT count(*) FROM regions") == 20
    assert await scalar(engine, "SELECT count(*) FROM settlements") > 250
    total_km2 = await scalar(engine, "SELECT sum(area_km2) FROM regions")
    assert total_km2 == pytest.approx(2_724_900, rel=0.02)
    kostanay_km2 = await scalar(engine, "SELECT area_km2 FROM regions WHERE code = 'KZ-39'")
    assert kostanay_km2 == pytest.approx(196_000, rel=0.05)


async def test_counts_in_the_database_match_the_report(
    engine: AsyncEngine, seeded: SeedReport
) -> None:
    assert seeded.volunteers == COUNT
    assert await scalar(engine, "SELECT count(*) FROM volunteers") == COUNT
    valid_sql = (
        "SELECT count(*) FROM certifications WHERE issued_on <= :today AND expires_on > :today"
    )
    assert await scalar(engine, valid_sql, today=TODAY) == seeded.certifications_valid
    assert await scalar(engine, "SELECT count(*) FROM certifications") == seeded.certifications
    assert 0.10 <= seeded.certifications_expired / seeded.certifications <= 0.20
    assert await scalar(engine, "SELECT count(*) FROM mobile_groups") == seeded.groups == 20
    members = await scalar(engine, "SELECT count(*) FROM mobile_group_members")
    assert members == seeded.group_members > 0


async def test_nearest_volunteers_to_kostanay_live_in_kostanay_region(
    engine: AsyncEngine, seeded: SeedReport
) -> None:
    async with engine.connect() as connection:
        plan = "\n".join(
            (
                await connection.execute(
                    text(
                        "EXPLAIN SELECT id FROM volunteers "
                        "ORDER BY home <-> CAST(:point AS geography) LIMIT 10"
                    ),
                    {"point": KOSTANAY_CITY},
                )
            ).scalars()
        )
        regions = (
            await connection.execute(
                text(
                    "SELECT region_code FROM volunteers "
                    "ORDER BY home <-> CAST(:point AS geography) LIMIT 10"
                ),
                {"point": KOSTANAY_CITY},
            )
        ).scalars()
        assert list(regions) == ["KZ-39"] * 10
    assert "ix_volunteers_home" in plan


async def test_homes_lie_within_60_km_of_their_region(
    engine: AsyncEngine, seeded: SeedReport
) -> None:
    inside = await scalar(
        engine,
        "SELECT avg(ST_DWithin(v.home, r.boundary, 60000)::int) "
        "FROM volunteers v JOIN regions r ON r.code = v.region_code",
    )
    assert float(inside) >= 0.97


async def test_the_pilot_group_is_kostanay_and_members_hold_valid_certificates(
    engine: AsyncEngine, seeded: SeedReport
) -> None:
    pilot = await scalar(engine, "SELECT region_code FROM mobile_groups WHERE is_pilot")
    assert pilot == "KZ-39"
    role_to_type = " ".join(
        f"WHEN '{role.value}' THEN '{certification.value}'"
        for role, certification in ROLE_CERTIFICATION.items()
    )
    unfit = await scalar(
        engine,
        f"""
        SELECT count(*) FROM mobile_group_members m
        JOIN mobile_groups g ON g.id = m.group_id
        JOIN volunteers v ON v.id = m.volunteer_id
        WHERE v.region_code <> g.region_code
           OR v.availability <> 'available'
           OR v.birth_date > CAST(:today AS date) - INTERVAL '18 years'
           OR NOT EXISTS (
               SELECT 1 FROM certifications c
               WHERE c.volunteer_id = v.id
                 AND c.type = CASE m.role {role_to_type} END
                 AND c.issued_on <= :today AND c.expires_on > :today
           )
        """,
        today=TODAY,
    )
    assert unfit == 0


async def test_indexes_and_constraints_are_back_after_the_bulk_load(
    engine: AsyncEngine, seeded: SeedReport
) -> None:
    wanted = {
        "ix_volunteers_home",
        "ix_volunteers_region",
        "ix_certifications_volunteer",
        "ix_certifications_type_expiry",
        # Matching's nearest holders of each type: every type needs its own (migration 0007).
        *(f"ix_certifications_home_{kind.value}" for kind in CertificationType),
    }
    async with engine.connect() as connection:
        present = set(
            (
                await connection.execute(
                    text("SELECT indexname FROM pg_indexes WHERE indexname = ANY(:names)"),
                    {"names": sorted(wanted)},
                )
            ).scalars()
        )
    assert present == wanted
    constraints = await scalar(
        engine,
        "SELECT count(*) FROM pg_constraint WHERE conname IN "
        "('fk_volunteers_region_code_regions', 'fk_certifications_volunteer_id_volunteers', "
        "'uq_volunteers_phone')",
    )
    assert constraints == 3


async def test_every_certificate_lies_at_its_holders_home_and_follows_a_move(
    engine: AsyncEngine, seeded: SeedReport
) -> None:
    """Matching finds holders through the certificate's copy of the home: it must never drift."""
    drifted = (
        "SELECT count(*) FROM certifications c JOIN volunteers v ON v.id = c.volunteer_id "
        "WHERE NOT ST_Equals(c.home::geometry, v.home::geometry)"
    )
    assert await scalar(engine, drifted) == 0, "the seed writes the holder's home"
    async with engine.begin() as connection:
        volunteer = (
            await connection.execute(
                text(
                    "SELECT volunteer_id FROM certifications GROUP BY volunteer_id "
                    "HAVING count(*) >= 2 LIMIT 1"
                )
            )
        ).scalar_one()
        await connection.execute(
            text("UPDATE volunteers SET home = CAST(:home AS geography) WHERE id = :v"),
            {"home": KOSTANAY_CITY, "v": volunteer},
        )
        await connection.execute(
            text(
                "INSERT INTO certifications (volunteer_id, type, issued_on, expires_on) "
                "VALUES (:v, 'dog_handler', '2025-01-01', '2028-01-01')"
            ),
            {"v": volunteer},
        )
        moved = await connection.scalar(
            text(
                "SELECT count(*) FROM certifications WHERE volunteer_id = :v "
                "AND ST_Equals(home::geometry, CAST(:home AS geometry))"
            ),
            {"v": volunteer, "home": KOSTANAY_CITY},
        )
        held = await connection.scalar(
            text("SELECT count(*) FROM certifications WHERE volunteer_id = :v"), {"v": volunteer}
        )
        await connection.rollback()
    assert moved == held >= 3, "moving a volunteer moves every certificate, new ones included"


async def test_seeding_again_replaces_the_population(
    engine: AsyncEngine, seeded: SeedReport
) -> None:
    again = await seed_volunteers(engine, count=COUNT, today=TODAY, seed=7)
    assert await scalar(engine, "SELECT count(*) FROM volunteers") == COUNT
    assert await scalar(engine, "SELECT count(*) FROM mobile_groups") == 20
    assert again.certifications == seeded.certifications
    assert await scalar(engine, "SELECT count(*) FROM certifications") == seeded.certifications


async def test_a_failed_seed_leaves_the_previous_population_in_place(
    engine: AsyncEngine, seeded: SeedReport
) -> None:
    def fail_after_first_batch(written: int) -> None:
        raise RuntimeError(f"interrupted after {written}")

    with pytest.raises(RuntimeError, match="interrupted after 1000"):
        await seed_volunteers(
            engine,
            count=3_000,
            today=TODAY,
            seed=99,
            batch_size=1_000,
            progress=fail_after_first_batch,
        )
    assert await scalar(engine, "SELECT count(*) FROM volunteers") == COUNT
    assert await scalar(engine, "SELECT count(*) FROM mobile_groups") == 20
    assert await scalar(engine, "SELECT to_regclass('ix_volunteers_home') IS NOT NULL")
