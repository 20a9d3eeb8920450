"""live streams: a meeting's composite sent to RTMP destinations and HLS, their outputs, the watch
page's viewers, and the stream a meeting starts with

Revision ID: b6b1c0de0016
Revises: b5b1c0de0015
Create Date: 2026-12-07 12:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6b1c0de0016'
down_revision = 'b5b1c0de0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'live_streams',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('occurrence_key', sa.String(length=32), nullable=False),
        sa.Column('room_name', sa.String(length=128), nullable=False),
        sa.Column('job_id', sa.String(length=64), nullable=False),
        sa.Column('dispatch_id', sa.String(length=64), nullable=True),
        sa.Column('egress_id', sa.String(length=64), nullable=True),
        sa.Column('layout', sa.String(length=16), nullable=False),
        sa.Column('status', sa.Enum('starting', 'live', 'ended', 'failed',
                                    name='streamstatus', native_enum=False, length=16),
                  nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('started_by_id', sa.Integer(), nullable=True),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('job_id'),
        sa.UniqueConstraint('egress_id'),
    )
    with op.batch_alter_table('live_streams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_streams_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_streams_room_name'), ['room_name'], unique=False)
    op.create_table(
        'stream_outputs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('stream_id', sa.Integer(), nullable=False),
        sa.Column('output_id', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('destination_encrypted', sa.Text(), nullable=True),
        sa.Column('destination_hint', sa.String(length=300), nullable=False),
        sa.Column('status', sa.Enum('starting', 'live', 'failed', 'ended',
                                    name='outputstatus', native_enum=False, length=16),
                  nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['stream_id'], ['live_streams.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('stream_id', 'output_id'),
    )
    with op.batch_alter_table('stream_outputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stream_outputs_stream_id'), ['stream_id'], unique=False)
    op.create_table(
        'stream_viewers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('stream_id', sa.Integer(), nullable=False),
        sa.Column('viewer_key', sa.String(length=32), nullable=False),
        sa.Column('last_seen', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['stream_id'], ['live_streams.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('stream_id', 'viewer_key'),
    )
    with op.batch_alter_table('stream_viewers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stream_viewers_stream_id'), ['stream_id'], unique=False)
    op.create_table(
        'stream_plans',
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('destinations_encrypted', sa.Text(), nullable=False),
        sa.Column('destination_hints', sa.Text(), nullable=False),
        sa.Column('hls', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('meeting_id'),
    )


def downgrade():
    op.drop_table('stream_plans')
    with op.batch_alter_table('stream_viewers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stream_viewers_stream_id'))
    op.drop_table('stream_viewers')
    with op.batch_alter_table('stream_outputs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stream_outputs_stream_id'))
    op.drop_table('stream_outputs')
    with op.batch_alter_table('live_streams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_streams_room_name'))
        batch_op.drop_index(batch_op.f('ix_live_streams_meeting_id'))
    op.drop_table('live_streams')
