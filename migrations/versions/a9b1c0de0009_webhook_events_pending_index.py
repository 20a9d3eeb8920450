"""webhook events: index to find the pending ones

Revision ID: a9b1c0de0009
Revises: a8b1c0de0008
Create Date: 2026-11-23 11:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a9b1c0de0009'
down_revision = 'a8b1c0de0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_events_result_received_at', ['result', 'received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_events_result_received_at')
