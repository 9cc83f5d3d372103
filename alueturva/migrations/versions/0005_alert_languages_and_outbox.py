"""alerting: alert texts in other languages, the reason of a cancellation, and the console backends' outbox

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import alueturva.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        # Alerts sent before had their text in Finnish only: no other language.
        batch_op.add_column(sa.Column("translations", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("translations", server_default=None)
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sent_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.Enum("sms", "email", name="channel", native_enum=False, length=10), nullable=False),
        sa.Column("to", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=1000), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_messages_sent_at"), ["sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_sent_at"))
    op.drop_table("outbox_messages")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("translations")
