"""drills: drills, objectives, phases, observations, the alerts they send, findings and the improvement plan;
exercise decisions, observations and snapshots in the picture (``drill_id``), and what a reaction did (``result``)

Revision ID: 0008
Revises: 0002, 0007 (it joins the situation branch and the kernel, contacts and alerting one: drills use both)
"""

import sqlalchemy as sa
from alembic import op

import alueturva.db

revision = "0008"
down_revision = ("0002", "0007")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "communication_test",
                "management_group_test",
                "external_system_test",
                "exercise",
                name="drillkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "planned", "running", "ended", "cancelled", "missed", name="drillstate", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=True),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("response_options", sa.JSON(), nullable=False),
        sa.Column("escalation", sa.JSON(), nullable=True),
        sa.Column("external_system", sa.String(length=60), nullable=True),
        sa.Column("external_sent_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("start_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cron", sa.String(length=120), nullable=True),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("occurrence_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=120), nullable=True),
        sa.Column("ends_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=120), nullable=True),
        sa.Column("compliance", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["series_id"], ["drills.id"], name=op.f("fk_drills_series_id_drills"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drills")),
        sa.UniqueConstraint("series_id", "occurrence_at", name=op.f("uq_drills_series_id_occurrence_at")),
    )
    with op.batch_alter_table("drills", schema=None) as batch_op:
        batch_op.create_index("ix_drills_state", ["state"], unique=False)

    op.create_table(
        "drill_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("alert", "reach_question", "reaction", name="drillalertpurpose", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("phase", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("created_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_drill_alerts_alert_id_alerts"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_drill_alerts_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_alerts")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_drill_alerts_alert_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_drill_alerts_idempotency_key")),
    )
    with op.batch_alter_table("drill_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drill_alerts_drill_id"), ["drill_id"], unique=False)

    op.create_table(
        "drill_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("strength", "area_for_improvement", name="findingkind", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("objective", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_drill_findings_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_findings")),
    )
    with op.batch_alter_table("drill_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drill_findings_drill_id"), ["drill_id"], unique=False)

    op.create_table(
        "drill_objectives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("rating", sa.String(length=1), nullable=True),
        sa.Column("rating_note", sa.String(length=2000), nullable=True),
        sa.Column("rated_by", sa.String(length=120), nullable=True),
        sa.Column("rated_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_drill_objectives_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_objectives")),
        sa.UniqueConstraint("drill_id", "position", name=op.f("uq_drill_objectives_drill_id_position")),
    )
    op.create_table(
        "drill_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_drill_observations_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_observations")),
    )
    with op.batch_alter_table("drill_observations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drill_observations_drill_id"), ["drill_id"], unique=False)

    op.create_table(
        "drill_phases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("title", sa.JSON(), nullable=True),
        sa.Column("message", sa.JSON(), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=True),
        sa.Column("snapshot", sa.Boolean(), nullable=False),
        sa.Column("started_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=120), nullable=True),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_drill_phases_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["situation_snapshots.id"],
            name=op.f("fk_drill_phases_snapshot_id_situation_snapshots"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_phases")),
        sa.UniqueConstraint("drill_id", "number", name=op.f("uq_drill_phases_drill_id_number")),
    )
    op.create_table(
        "improvement_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("action", sa.String(length=2000), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "in_progress", "done", "dropped", name="itemstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=120), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_improvement_items_drill_id_drills"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["drill_findings.id"],
            name=op.f("fk_improvement_items_finding_id_drill_findings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_improvement_items_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_items")),
    )
    with op.batch_alter_table("improvement_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_improvement_items_drill_id"), ["drill_id"], unique=False)
        batch_op.create_index("ix_improvement_items_status", ["status"], unique=False)

    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("drill_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_observations_drill", ["drill_id", "indicator_key", "area_key", "observed_at"], unique=False
        )

    with op.batch_alter_table("readiness_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("drill_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_readiness_decisions_drill", ["drill_id"], unique=False)

    with op.batch_alter_table("readiness_reactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sa.JSON(), nullable=True))

    with op.batch_alter_table("situation_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("drill_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_situation_snapshots_drill_id"), ["drill_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("situation_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_situation_snapshots_drill_id"))
        batch_op.drop_column("drill_id")

    with op.batch_alter_table("readiness_reactions", schema=None) as batch_op:
        batch_op.drop_column("result")

    with op.batch_alter_table("readiness_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_readiness_decisions_drill")
        batch_op.drop_column("drill_id")

    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_drill")
        batch_op.drop_column("drill_id")

    with op.batch_alter_table("improvement_items", schema=None) as batch_op:
        batch_op.drop_index("ix_improvement_items_status")
        batch_op.drop_index(batch_op.f("ix_improvement_items_drill_id"))

    op.drop_table("improvement_items")
    op.drop_table("drill_phases")
    with op.batch_alter_table("drill_observations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drill_observations_drill_id"))

    op.drop_table("drill_observations")
    op.drop_table("drill_objectives")
    with op.batch_alter_table("drill_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drill_findings_drill_id"))

    op.drop_table("drill_findings")
    with op.batch_alter_table("drill_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drill_alerts_drill_id"))

    op.drop_table("drill_alerts")
    with op.batch_alter_table("drills", schema=None) as batch_op:
        batch_op.drop_index("ix_drills_state")

    op.drop_table("drills")
