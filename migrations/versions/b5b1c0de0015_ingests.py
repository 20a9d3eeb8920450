"""ingests: RTMP stream-in of a meeting (URL, hashed stream key, port, live state)

Revision ID: b5b1c0de0015
Revises: b4b1c0de0014
Create Date: 2026-12-07 12:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5b1c0de0015'
down_revision = 'b4b1c0de0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ingests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('key_sha256', sa.String(length=64), nullable=False),
        sa.Column('key_hint', sa.String(length=4), nullable=False),
        sa.Column('rtmp_port', sa.Integer(), nullable=True),
        sa.Column('status', sa.Enum('idle', 'starting', 'waiting', 'live', 'failed',
                                    name='ingeststatus', native_enum=False, length=16),
                  nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('room_name', sa.String(length=128), nullable=True),
        sa.Column('job_id', sa.String(length=64), nullable=True),
        sa.Column('dispatch_id', sa.String(length=64), nullable=True),
        sa.Column('ingress_id', sa.String(length=64), nullable=True),
        sa.Column('ingress_url', sa.String(length=500), nullable=True),
        sa.Column('refused_count', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_id'),
        sa.UniqueConstraint('rtmp_port'),
        sa.UniqueConstraint('job_id'),
        sa.UniqueConstraint('ingress_id'),
    )
    with op.batch_alter_table('ingests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingests_meeting_id'), ['meeting_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ingests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingests_meeting_id'))
    op.drop_table('ingests')
