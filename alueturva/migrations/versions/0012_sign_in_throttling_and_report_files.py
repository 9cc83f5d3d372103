"""issue 18: no account lock-out, and drill report PDFs built by a worker.

auth: failed sign-ins are throttled per address and per email and address (alueturva/throttling.py) instead of
locking the account, so nobody can lock an account from elsewhere; the counters leave the table.
drills: ``drill_report_files`` keeps each report PDF a worker built, until the report changes.

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
    op.create_table(
        "drill_report_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("requested_at", alueturva.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("built_at", alueturva.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["drill_id"], ["drills.id"], name=op.f("fk_drill_report_files_drill_id_drills"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_report_files")),
        sa.UniqueConstraint("drill_id", "variant", name=op.f("uq_drill_report_files_drill_id_variant")),
    )


def downgrade() -> None:
    op.drop_table("drill_report_files")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", alueturva.db.UTCDateTime(timezone=True), nullable=True))
