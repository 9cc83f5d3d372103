"""alerting: a random nonce per recipient, carried by its acknowledgement link

Alert and recipient ids are small integers: with the secret key alone anyone could sign a link for any recipient.
Each recipient now has 32 random hex characters that its link must carry. Existing recipients get one too; their
links signed before this revision (without a nonce) are no longer accepted (SMS replies still are).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _random_hex() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "replace(gen_random_uuid()::text, '-', '')"
    return "lower(hex(randomblob(16)))"


def upgrade() -> None:
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_nonce", sa.String(length=32), nullable=True))
    op.execute(f"UPDATE alert_recipients SET link_nonce = {_random_hex()}")
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.alter_column("link_nonce", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.drop_column("link_nonce")
