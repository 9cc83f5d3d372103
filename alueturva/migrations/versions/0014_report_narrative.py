"""drills: the after-action report's words and approved versions (issue 20): the draft people write (narrative
sections per language, an edited course of events, publicity marking, distribution) and each approved version
frozen; the records people make of the agreement's metrics the service cannot measure; participants' feedback
requests (an outbox) and their answers, kept apart

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import alueturva.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drill_report_drafts",
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("course_of_events", sa.JSON(), nullable=True),
        sa.Column("marking", sa.String(length=40), nullable=True),
        sa.Column("distribution", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_drill_report_drafts_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("drill_id", name=op.f("pk_drill_report_drafts")),
    )
    op.create_table(
        "drill_report_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("approved_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("marking", sa.String(length=40), nullable=False),
        sa.Column("distribution", sa.JSON(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_drill_report_versions_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_report_versions")),
        sa.UniqueConstraint("drill_id", "version", name=op.f("uq_drill_report_versions_drill_id_version")),
    )
    op.create_index(op.f("ix_drill_report_versions_drill_id"), "drill_report_versions", ["drill_id"], unique=False)
    op.create_table(
        "followup_metric_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("evidence", sa.String(length=1000), nullable=False),
        sa.Column("on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_metric_records")),
    )
    op.create_index("ix_followup_metric_records_key_year", "followup_metric_records", ["key", "year"], unique=False)
    op.create_table(
        "feedback_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("nonce", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("expires_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("created_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_feedback_requests_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_feedback_requests_person_id_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_requests")),
        sa.UniqueConstraint("drill_id", "person_id", name=op.f("uq_feedback_requests_drill_id_person_id")),
    )
    op.create_index("ix_feedback_requests_state", "feedback_requests", ["state"], unique=False)
    op.create_table(
        "feedback_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_feedback_answers_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_answers")),
    )
    op.create_index(op.f("ix_feedback_answers_drill_id"), "feedback_answers", ["drill_id"], unique=False)
    with op.batch_alter_table("drills", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feedback_questions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drills", schema=None) as batch_op:
        batch_op.drop_column("feedback_questions")
    op.drop_index(op.f("ix_feedback_answers_drill_id"), table_name="feedback_answers")
    op.drop_table("feedback_answers")
    op.drop_index("ix_feedback_requests_state", table_name="feedback_requests")
    op.drop_table("feedback_requests")
    op.drop_index("ix_followup_metric_records_key_year", table_name="followup_metric_records")
    op.drop_table("followup_metric_records")
    op.drop_index(op.f("ix_drill_report_versions_drill_id"), table_name="drill_report_versions")
    op.drop_table("drill_report_versions")
    op.drop_table("drill_report_drafts")
