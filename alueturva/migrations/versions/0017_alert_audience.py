"""a large alert's people are made recipients in chunks after its first batch is sent (issue 24):
``alerts.audience`` (the person ids still to add, in order), ``audience_done`` (how many of them are added) and
``audience_progress_at`` (when the last chunk was committed; NULL once everyone is a recipient)

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

import alueturva.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("audience", sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column("audience_done", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("audience_progress_at", alueturva.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("audience_progress_at")
        batch.drop_column("audience_done")
        batch.drop_column("audience")
