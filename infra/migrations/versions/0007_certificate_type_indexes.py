"""One GiST index per certificate type: each type's nearest holders come off a tree of their own.

Migration 0006 put every certificate in one GiST index over (type, home). A nearest-neighbour scan
for one type still walks nodes shared with every other type (the tree groups by place as much as
by type): about 250 pages and 1.5–2 ms for the nearest 100 holders of a type with a million
volunteers. A partial index per type is a plain spatial tree of that type's holders: about 140
pages and 0.7 ms for the same answer. A wave asks for 5–9 types, so this is most of the database's
share of a first wave.

The planner uses a partial index only when the statement names the type as a literal, which the
candidate query does (`services/mobilizer/candidates.py`). A new certificate type needs its index
here too; `tests/integration/test_seed.py` fails until it has one.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The certificate types of this revision (shared.events.volunteers.CertificationType), frozen
# here as a migration must be.
TYPES = (
    "first_aid",
    "water_rescue",
    "mountain_rescue",
    "search_and_rescue",
    "drone_pilot",
    "offroad_driver",
    "psychologist",
    "dog_handler",
    "radio_operator",
    "firefighting",
    "team_leader",
)


def upgrade() -> None:
    for kind in TYPES:
        op.execute(
            f"CREATE INDEX ix_certifications_home_{kind} ON certifications "
            f"USING gist (home) WHERE type = '{kind}'"
        )
    op.execute("DROP INDEX IF EXISTS ix_certifications_type_home")


def downgrade() -> None:
    op.execute("CREATE INDEX ix_certifications_type_home ON certifications USING gist (type, home)")
    for kind in TYPES:
        op.execute(f"DROP INDEX IF EXISTS ix_certifications_home_{kind}")
