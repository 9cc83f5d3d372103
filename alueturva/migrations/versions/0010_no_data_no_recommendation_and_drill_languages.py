"""situation: no data, no recommendation: a recommended level (in the history and in a decision's record of what
was recommended) may be absent when no indicator of the area had a fresh value; drills: a drill's own words (name,
scenario, contact) in Swedish and English beside the Finnish ones (``drills.translations``)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recommendation_changes", schema=None) as batch_op:
        batch_op.alter_column("level", existing_type=sa.String(length=30), nullable=True)
    with op.batch_alter_table("readiness_decisions", schema=None) as batch_op:
        batch_op.alter_column("recommended_level", existing_type=sa.String(length=30), nullable=True)
    with op.batch_alter_table("drills", schema=None) as batch_op:
        batch_op.add_column(sa.Column("translations", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drills", schema=None) as batch_op:
        batch_op.drop_column("translations")
    op.execute("DELETE FROM recommendation_changes WHERE level IS NULL")
    op.execute("UPDATE readiness_decisions SET recommended_level = 'perusvalmius' WHERE recommended_level IS NULL")
    with op.batch_alter_table("readiness_decisions", schema=None) as batch_op:
        batch_op.alter_column("recommended_level", existing_type=sa.String(length=30), nullable=False)
    with op.batch_alter_table("recommendation_changes", schema=None) as batch_op:
        batch_op.alter_column("level", existing_type=sa.String(length=30), nullable=False)
