"""Every certificate knows where its holder lives: nearest holders of a type straight off an index.

Matching asks "the nearest people holding a water-rescue certificate". Walking the volunteers
nearest-first and checking each one's certificates reads thousands of people in a city before it
finds 200 holders of a rare type (0.3–3.5 s per role with a million volunteers). With the
holder's home copied onto the certificate and one GiST index over (type, home), the same question
is an index-ordered scan that reads little more than the rows it returns.

The copy is kept by the database: a certificate inserted without a home takes its holder's, and
moving a volunteer moves their certificates. (The seed writes the home itself, so the bulk load
does not look every holder up.)

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute("ALTER TABLE certifications ADD COLUMN home geography(Point, 4326)")
    op.execute(
        "UPDATE certifications c SET home = v.home FROM volunteers v WHERE v.id = c.volunteer_id"
    )
    op.execute("ALTER TABLE certifications ALTER COLUMN home SET NOT NULL")
    op.execute(
        """
        CREATE FUNCTION jedel_certification_home() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            SELECT v.home INTO NEW.home FROM volunteers v WHERE v.id = NEW.volunteer_id;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER certifications_home BEFORE INSERT ON certifications FOR EACH ROW "
        "WHEN (NEW.home IS NULL) EXECUTE FUNCTION jedel_certification_home()"
    )
    op.execute(
        "CREATE TRIGGER certifications_holder BEFORE UPDATE OF volunteer_id, home ON certifications "
        "FOR EACH ROW EXECUTE FUNCTION jedel_certification_home()"
    )
    op.execute(
        """
        CREATE FUNCTION jedel_volunteer_moved() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE certifications SET home = NEW.home WHERE volunteer_id = NEW.id;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER volunteers_moved AFTER UPDATE OF home ON volunteers FOR EACH ROW "
        "WHEN (ST_AsBinary(OLD.home) IS DISTINCT FROM ST_AsBinary(NEW.home)) "
        "EXECUTE FUNCTION jedel_volunteer_moved()"
    )
    op.execute("CREATE INDEX ix_certifications_type_home ON certifications USING gist (type, home)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_certifications_type_home")
    op.execute("DROP TRIGGER IF EXISTS volunteers_moved ON volunteers")
    op.execute("DROP FUNCTION IF EXISTS jedel_volunteer_moved()")
    op.execute("DROP TRIGGER IF EXISTS certifications_holder ON certifications")
    op.execute("DROP TRIGGER IF EXISTS certifications_home ON certifications")
    op.execute("DROP FUNCTION IF EXISTS jedel_certification_home()")
    op.execute("ALTER TABLE certifications DROP COLUMN home")
