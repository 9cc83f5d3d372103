"""actioncards: action cards (toimintaohjekortit) with their ordered tasks, and the municipalities' reviews of their
cards and of their management group's composition (issue 21)

Revision ID: 0013
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import alueturva.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("card_set", sa.String(length=80), nullable=False),
        sa.Column("scenario", sa.String(length=60), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("level", sa.String(length=40), nullable=True),
        sa.Column("drill_kind", sa.String(length=30), nullable=True),
        sa.Column("area", sa.String(length=60), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_cards")),
        sa.UniqueConstraint("key", name=op.f("uq_action_cards_key")),
    )
    op.create_index("ix_action_cards_level_area", "action_cards", ["level", "area"], unique=False)
    op.create_index(op.f("ix_action_cards_card_set"), "action_cards", ["card_set"], unique=False)
    op.create_table(
        "action_card_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.JSON(), nullable=False),
        sa.Column("role", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("due_minutes", sa.Integer(), nullable=False),
        sa.Column("check", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"], ["action_cards.id"], name=op.f("fk_action_card_tasks_card_id_action_cards"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_card_tasks")),
        sa.UniqueConstraint("card_id", "position", name=op.f("uq_action_card_tasks_card_id_position")),
    )
    op.create_index(op.f("ix_action_card_tasks_card_id"), "action_card_tasks", ["card_id"], unique=False)
    op.create_table(
        "action_card_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=30), nullable=False),
        sa.Column("reviewed_by", sa.String(length=200), nullable=False),
        sa.Column("reviewed_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.String(length=2000), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_action_card_reviews_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_card_reviews")),
    )
    op.create_index(
        "ix_action_card_reviews_organisation",
        "action_card_reviews",
        ["organisation_id", "subject", "reviewed_at"],
        unique=False,
    )

    op.create_table(
        "action_card_activations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("card_version", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=60), nullable=False),
        sa.Column("level", sa.String(length=40), nullable=True),
        sa.Column("drill_id", sa.Integer(), nullable=True),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("activated_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activated_by", sa.String(length=120), nullable=False),
        sa.Column("closed_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=120), nullable=True),
        sa.Column("close_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"], ["action_cards.id"], name=op.f("fk_action_card_activations_card_id_action_cards"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_action_card_activations_drill_id_drills"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["readiness_decisions.id"],
            name=op.f("fk_action_card_activations_decision_id_readiness_decisions"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_card_activations")),
        sa.UniqueConstraint("key", name=op.f("uq_action_card_activations_key")),
    )  # fmt: skip
    op.create_index("ix_action_card_activations_state_area", "action_card_activations", ["state", "area"])
    op.create_index(op.f("ix_action_card_activations_card_id"), "action_card_activations", ["card_id"])
    op.create_index(op.f("ix_action_card_activations_drill_id"), "action_card_activations", ["drill_id"])
    op.create_table(
        "action_card_activated_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.JSON(), nullable=False),
        sa.Column("check", sa.JSON(), nullable=True),
        sa.Column("role", sa.String(length=60), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("membership_id", sa.Integer(), nullable=True),
        sa.Column("handed_over_from_id", sa.Integer(), nullable=True),
        sa.Column("due_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("done_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("marked_by", sa.String(length=120), nullable=True),
        sa.Column("next_step", sa.String(length=20), nullable=True),
        sa.Column("next_step_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handed_over_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["activation_id"], ["action_card_activations.id"],
            name=op.f("fk_action_card_activated_tasks_activation_id_action_card_activations"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"],
            name=op.f("fk_action_card_activated_tasks_organisation_id_organisations"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_action_card_activated_tasks_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"], ["memberships.id"],
            name=op.f("fk_action_card_activated_tasks_membership_id_memberships"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["handed_over_from_id"], ["people.id"],
            name=op.f("fk_action_card_activated_tasks_handed_over_from_id_people"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_card_activated_tasks")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_action_card_activated_tasks_activation_id"), "action_card_activated_tasks", ["activation_id"]
    )
    op.create_index(op.f("ix_action_card_activated_tasks_person_id"), "action_card_activated_tasks", ["person_id"])
    op.create_index("ix_action_card_activated_tasks_step", "action_card_activated_tasks", ["next_step_at"])

    op.create_table(
        "action_card_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("activation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("task_ids", sa.JSON(), nullable=False),
        sa.Column("link_nonce", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["activation_id"], ["action_card_activations.id"],
            name=op.f("fk_action_card_messages_activation_id_action_card_activations"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_action_card_messages_person_id_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_card_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_action_card_messages_key")),
    )  # fmt: skip
    op.create_index(op.f("ix_action_card_messages_activation_id"), "action_card_messages", ["activation_id"])
    op.create_index(op.f("ix_action_card_messages_person_id"), "action_card_messages", ["person_id"])


def downgrade() -> None:
    op.drop_table("action_card_messages")
    op.drop_table("action_card_activated_tasks")
    op.drop_table("action_card_activations")
    op.drop_index("ix_action_card_reviews_organisation", table_name="action_card_reviews")
    op.drop_table("action_card_reviews")
    op.drop_index(op.f("ix_action_card_tasks_card_id"), table_name="action_card_tasks")
    op.drop_table("action_card_tasks")
    op.drop_index(op.f("ix_action_cards_card_set"), table_name="action_cards")
    op.drop_index("ix_action_cards_level_area", table_name="action_cards")
    op.drop_table("action_cards")
