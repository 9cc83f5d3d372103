"""personal data (issue 23): an erased person's ``people.erased_at``; the audit log stays append-only, but for one
change: retention may replace an old entry's actor with a pseudonym (``#`` and hex digits), every other column
unchanged

Revision ID: 0015
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import alueturva.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_SAME_BUT_ACTOR = (
    "NEW.actor LIKE '#%' AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action "
    "AND NEW.entity_type = OLD.entity_type AND {same_entity} AND {same_details}"
)


def _postgresql_function(allow_pseudonym: bool) -> str:
    same = _SAME_BUT_ACTOR.format(
        same_entity="NEW.entity_id IS NOT DISTINCT FROM OLD.entity_id",
        same_details="NEW.details::text = OLD.details::text",
    )
    allowed = f"IF TG_OP = 'UPDATE' AND {same} THEN RETURN NEW; END IF; " if allow_pseudonym else ""
    return (
        "CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {allowed}RAISE EXCEPTION 'audit_events is append-only'; END $$"
    )


def _sqlite_update_trigger(allow_pseudonym: bool) -> str:
    same = _SAME_BUT_ACTOR.format(
        same_entity="NEW.entity_id IS OLD.entity_id", same_details="NEW.details IS OLD.details"
    )
    when = f"WHEN NOT ({same}) " if allow_pseudonym else ""
    return (
        f"CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events {when}"
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
    )


def _allow(pseudonym: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_postgresql_function(pseudonym))
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute(_sqlite_update_trigger(pseudonym))


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", alueturva.db.UTCDateTime(timezone=True), nullable=True))
    _allow(pseudonym=True)


def downgrade() -> None:
    _allow(pseudonym=False)
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
