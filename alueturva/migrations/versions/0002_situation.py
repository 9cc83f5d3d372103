"""situation: observations, latest values, decisions, reactions, status reports, recommendations, snapshots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:50:00
"""

import sqlalchemy as sa
from alembic import op

import alueturva.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, alueturva.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "observations",
        sa.Column("id", BigId, nullable=False),
        sa.Column("indicator_key", sa.String(length=60), nullable=False),
        sa.Column("area_key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        _at("observed_at"),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=True),
        _at("received_at"),
        sa.Column("reported_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_observations_source_source_id")),
    )
    op.create_index("ix_observations_series", "observations", ["indicator_key", "area_key", "observed_at"])
    op.create_index("ix_observations_observed_at", "observations", ["observed_at"])

    op.create_table(
        "latest_observations",
        sa.Column("indicator_key", sa.String(length=60), nullable=False),
        sa.Column("area_key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        _at("observed_at"),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("indicator_key", "area_key", name=op.f("pk_latest_observations")),
    )

    op.create_table(
        "readiness_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_key", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=30), nullable=False),
        sa.Column("previous_level", sa.String(length=30), nullable=False),
        sa.Column("recommended_level", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=False),
        _at("decided_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_decisions")),
    )
    op.create_index("ix_readiness_decisions_area", "readiness_decisions", ["area_key", "decided_at"])

    op.create_table(
        "readiness_reactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("rule_key", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        _at("claimed_until", nullable=True),
        _at("next_attempt_at"),
        _at("created_at"),
        _at("completed_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["readiness_decisions.id"],
            name=op.f("fk_readiness_reactions_decision_id_readiness_decisions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_reactions")),
    )
    op.create_index(op.f("ix_readiness_reactions_decision_id"), "readiness_reactions", ["decision_id"])
    op.create_index("ix_readiness_reactions_status", "readiness_reactions", ["status", "next_attempt_at"])

    op.create_table(
        "municipality_status_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_key", sa.String(length=40), nullable=False),
        sa.Column("management_group_convened", sa.Boolean(), nullable=False),
        sa.Column("staff_availability_percent", sa.Integer(), nullable=False),
        sa.Column("key_services_running", sa.Boolean(), nullable=False),
        sa.Column("services_note", sa.String(length=2000), nullable=True),
        sa.Column("reporter_name", sa.String(length=200), nullable=True),
        sa.Column("reported_by", sa.String(length=120), nullable=False),
        _at("reported_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_municipality_status_reports")),
    )
    op.create_index("ix_municipality_status_reports_area", "municipality_status_reports", ["area_key", "reported_at"])

    op.create_table(
        "recommendation_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_key", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=30), nullable=False),
        sa.Column("previous_level", sa.String(length=30), nullable=True),
        _at("changed_at"),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_changes")),
    )
    op.create_index("ix_recommendation_changes_area", "recommendation_changes", ["area_key", "changed_at"])
    op.create_index(op.f("ix_recommendation_changes_changed_at"), "recommendation_changes", ["changed_at"])

    op.create_table(
        "situation_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        _at("taken_at"),
        sa.Column("taken_by", sa.String(length=120), nullable=False),
        sa.Column("picture", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_situation_snapshots")),
    )
    op.create_index(op.f("ix_situation_snapshots_taken_at"), "situation_snapshots", ["taken_at"])


def downgrade() -> None:
    op.drop_table("situation_snapshots")
    op.drop_table("recommendation_changes")
    op.drop_table("municipality_status_reports")
    op.drop_table("readiness_reactions")
    op.drop_table("readiness_decisions")
    op.drop_table("latest_observations")
    op.drop_table("observations")
