"""occurrence states: when the room was last provisioned

Revision ID: b0b1c0de0010
Revises: a9b1c0de0009
Create Date: 2026-11-23 11:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b0b1c0de0010'
down_revision = 'a9b1c0de0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('occurrence_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('room_provisioned_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('occurrence_states', schema=None) as batch_op:
        batch_op.drop_column('room_provisioned_at')
