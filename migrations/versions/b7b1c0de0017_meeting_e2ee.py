"""meetings: end-to-end encryption flag (the key is never stored)

Revision ID: b7b1c0de0017
Revises: b6b1c0de0016
Create Date: 2026-12-08 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7b1c0de0017'
down_revision = 'b6b1c0de0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('e2ee', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_column('e2ee')
