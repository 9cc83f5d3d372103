"""auth: no account lock-out (issue 18). Failed sign-ins are throttled per address and per email and address
(alueturva/throttling.py) instead, so nobody can lock an account from elsewhere; the counters leave the table.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import alueturva.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", alueturva.db.UTCDateTime(timezone=True), nullable=True))
