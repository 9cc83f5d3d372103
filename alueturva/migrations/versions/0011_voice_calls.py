"""alerting: voice calls (issue 22). A call's delivery keeps who answered it and how long it lasted; an escalation
timer may call one targeted group's members (``groups.call_after_minutes``)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answered_by", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("duration_seconds", sa.Integer(), nullable=True))
    with op.batch_alter_table("escalation_timers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_escalation_timers_group_id_groups"), "groups", ["group_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_after_minutes", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_column("call_after_minutes")
    with op.batch_alter_table("escalation_timers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_escalation_timers_group_id_groups"), type_="foreignkey")
        batch_op.drop_column("group_id")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("duration_seconds")
        batch_op.drop_column("answered_by")
