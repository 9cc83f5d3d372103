"""alerting: alerts, recipients, deliveries, escalation timers, alert events, inbound messages

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import alueturva.db

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("message", sa.String(length=2000), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "closed", "cancelled", name="alertstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("short_code", sa.String(length=8), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("response_options", sa.JSON(), nullable=False),
        sa.Column("escalation", sa.JSON(), nullable=False),
        sa.Column("notify_email", sa.String(length=254), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_alerts_idempotency_key")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_created_at"), ["created_at"], unique=False)

    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_events_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_events_alert_id"), ["alert_id"], unique=False)

    op.create_table(
        "escalation_timers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("resend", "deputy", "notify_operator", "close", name="timerkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("due_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_escalation_timers_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_timers")),
    )
    with op.batch_alter_table("escalation_timers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_timers_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index("ix_escalation_timers_due", ["done_at", "due_at"], unique=False)

    op.create_table(
        "alert_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("deputy_for_id", sa.Integer(), nullable=True),
        sa.Column("added_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "ack_method",
            sa.Enum("sms", "link", "operator", name="ackmethod", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("ack_by", sa.String(length=120), nullable=True),
        sa.Column("ack_late", sa.Boolean(), nullable=False),
        sa.Column("response", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_recipients_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["deputy_for_id"],
            ["alert_recipients.id"],
            name=op.f("fk_alert_recipients_deputy_for_id_alert_recipients"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_alert_recipients_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_alert_recipients_person_id_people"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_recipients")),
        sa.UniqueConstraint("alert_id", "person_id", name=op.f("uq_alert_recipients_alert_id_person_id")),
    )
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_recipients_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_recipients_person_id"), ["person_id"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.Enum("sms", "email", name="channel", native_enum=False, length=10), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("alert", "reminder", "cancel", name="deliverykind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "delivered",
                "undelivered",
                "failed",
                "cancelled",
                name="deliverystate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("enqueued_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("sent_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_deliveries_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["alert_recipients.id"],
            name=op.f("fk_deliveries_recipient_id_alert_recipients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("recipient_id", "channel", "round", name=op.f("uq_deliveries_recipient_id_channel_round")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_recipient_id"), ["recipient_id"], unique=False)
        batch_op.create_index("ix_deliveries_state_enqueued_at", ["state", "enqueued_at"], unique=False)

    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("received_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.String(length=1600), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_inbound_messages_person_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["alert_recipients.id"],
            name=op.f("fk_inbound_messages_recipient_id_alert_recipients"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_inbound_messages_provider_id")),
    )


def downgrade() -> None:
    op.drop_table("inbound_messages")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_state_enqueued_at")
        batch_op.drop_index(batch_op.f("ix_deliveries_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_provider_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_alert_id"))

    op.drop_table("deliveries")
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_recipients_person_id"))
        batch_op.drop_index(batch_op.f("ix_alert_recipients_alert_id"))

    op.drop_table("alert_recipients")
    with op.batch_alter_table("escalation_timers", schema=None) as batch_op:
        batch_op.drop_index("ix_escalation_timers_due")
        batch_op.drop_index(batch_op.f("ix_escalation_timers_alert_id"))

    op.drop_table("escalation_timers")
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_events_alert_id"))

    op.drop_table("alert_events")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_created_at"))

    op.drop_table("alerts")
