"""The activity log keeps no personal data: what earlier entries held is removed once.

The registry now writes entries through `services.registry.redaction.without_personal_data`;
this migration applies the same rules to the entries written before it: the phone an offer went
to, a missing-person incident's texts beyond the kind of event and the subject's age and
last-seen point, a volunteer's free-text reason for declining. The append-only trigger is
disabled for these statements alone, in this migration's transaction, and enabled again.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE activity_log DISABLE TRIGGER activity_log_append_only")
    op.execute(
        "UPDATE activity_log SET payload = payload - 'contact_phone' "
        "WHERE payload ? 'contact_phone'"
    )
    op.execute(
        """
        UPDATE activity_log SET payload = jsonb_set(
            payload - 'headline', '{texts}',
            (SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                        'language', t -> 'language', 'event', t -> 'event'))), '[]'::jsonb)
             FROM jsonb_array_elements(payload -> 'texts') AS t))
        WHERE payload ->> 'source' = 'missing_person' AND jsonb_typeof(payload -> 'texts') = 'array'
        """
    )
    op.execute(
        """
        UPDATE activity_log SET payload = jsonb_set(
            payload, '{subject}',
            jsonb_strip_nulls(jsonb_build_object('category', payload -> 'subject' -> 'category')))
        WHERE payload ->> 'source' = 'missing_person'
          AND jsonb_typeof(payload -> 'subject') = 'object'
        """
    )
    op.execute(
        """
        UPDATE activity_log
        SET payload = jsonb_set(payload, '{reason}', 'null'::jsonb) || '{"reason_given": true}'
        WHERE kind = 'RespondToOffer' AND payload ->> 'reason' IS NOT NULL
        """
    )
    op.execute("ALTER TABLE activity_log ENABLE TRIGGER activity_log_append_only")


def downgrade() -> None:
    """What was removed is gone; there is nothing to put back."""
