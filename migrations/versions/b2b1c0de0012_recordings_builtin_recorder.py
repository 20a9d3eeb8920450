"""recordings: the built-in recorder (job and dispatch ids, file facts), media workers

Revision ID: b2b1c0de0012
Revises: b1b1c0de0011
Create Date: 2026-12-07 02:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2b1c0de0012'
down_revision = 'b1b1c0de0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'recorder',
                sa.Enum('egress', 'builtin', name='recorderkind', native_enum=False, length=16),
                server_default='egress',
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column('job_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('dispatch_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('height', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('partial_file', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_unique_constraint(batch_op.f('uq_recordings_job_id'), ['job_id'])
    op.create_table(
        'media_workers',
        sa.Column('worker_id', sa.String(length=200), nullable=False),
        sa.Column('agent_names', sa.String(length=500), nullable=False),
        sa.Column('jobs_running', sa.Integer(), nullable=False),
        sa.Column('max_jobs', sa.Integer(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('worker_id'),
    )
    op.create_index(
        op.f('ix_media_workers_last_seen_at'), 'media_workers', ['last_seen_at'], unique=False
    )


def downgrade():
    op.drop_index(op.f('ix_media_workers_last_seen_at'), table_name='media_workers')
    op.drop_table('media_workers')
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_recordings_job_id'), type_='unique')
        batch_op.drop_column('partial_file')
        batch_op.drop_column('height')
        batch_op.drop_column('width')
        batch_op.drop_column('sha256')
        batch_op.drop_column('dispatch_id')
        batch_op.drop_column('job_id')
        batch_op.drop_column('recorder')
