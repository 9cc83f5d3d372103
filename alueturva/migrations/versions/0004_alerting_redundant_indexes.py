"""alerting: drop two indexes that the unique constraints already provide

``alert_recipients (alert_id, person_id)`` and ``deliveries (recipient_id, channel, round)`` are unique, so their
indexes already serve lookups by ``alert_id`` and by ``recipient_id``. The single-column copies only made every
recipient and delivery row slower to write, which is on the path between an operator's POST and the first SMS.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_recipient_id"))
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_recipients_alert_id"))


def downgrade() -> None:
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_recipients_alert_id"), ["alert_id"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_recipient_id"), ["recipient_id"], unique=False)
