"""drills: exercises run elsewhere, imported from their logs (the files, their events, and the recipients and
messages derived from them); ``drills.origin`` says whether a drill was run here or imported

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import alueturva.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drill_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.Column("imported_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_drill_imports_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_imports")),
        sa.UniqueConstraint("sha256", name=op.f("uq_drill_imports_sha256")),
    )
    with op.batch_alter_table("drill_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drill_imports_drill_id"), ["drill_id"], unique=False)

    op.create_table(
        "imported_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=64), nullable=False),
        sa.Column("at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("answer", sa.String(length=500), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("phase", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_imported_events_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["drill_imports.id"],
            name=op.f("fk_imported_events_import_id_drill_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_events")),
        sa.UniqueConstraint("drill_id", "row_key", name=op.f("uq_imported_events_drill_id_row_key")),
    )
    with op.batch_alter_table("imported_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_imported_events_import_id"), ["import_id"], unique=False)

    op.create_table(
        "imported_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("mobile", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("organisation_name", sa.String(length=200), nullable=True),
        sa.Column("alert_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ack_channel", sa.String(length=10), nullable=True),
        sa.Column("response", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_imported_recipients_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_imported_recipients_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_imported_recipients_person_id_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_recipients")),
    )
    with op.batch_alter_table("imported_recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_imported_recipients_drill_id"), ["drill_id"], unique=False)

    op.create_table(
        "imported_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("sent_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["imported_recipients.id"],
            name=op.f("fk_imported_messages_recipient_id_imported_recipients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_messages")),
    )
    with op.batch_alter_table("imported_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_imported_messages_recipient_id"), ["recipient_id"], unique=False)

    with op.batch_alter_table("drills", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=10), server_default="service", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("drills", schema=None) as batch_op:
        batch_op.drop_column("origin")

    with op.batch_alter_table("imported_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_imported_messages_recipient_id"))

    op.drop_table("imported_messages")
    with op.batch_alter_table("imported_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_imported_recipients_drill_id"))

    op.drop_table("imported_recipients")
    with op.batch_alter_table("imported_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_imported_events_import_id"))

    op.drop_table("imported_events")
    with op.batch_alter_table("drill_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drill_imports_drill_id"))

    op.drop_table("drill_imports")
