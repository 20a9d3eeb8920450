"""captions: the meeting setting, transcripts and their segments

Revision ID: b3b1c0de0013
Revises: b2b1c0de0012
Create Date: 2026-12-07 08:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3b1c0de0013'
down_revision = 'b2b1c0de0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('captions', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        'transcripts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('occurrence_key', sa.String(length=32), nullable=False),
        sa.Column('room_name', sa.String(length=128), nullable=False),
        sa.Column('origin_at', sa.DateTime(), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column(
            'status',
            sa.Enum(
                'off', 'starting', 'running', 'unavailable', 'failed',
                name='captionsstatus', native_enum=False, length=16,
            ),
            nullable=False,
        ),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('job_id', sa.String(length=64), nullable=True),
        sa.Column('dispatch_id', sa.String(length=64), nullable=True),
        sa.Column('redispatched', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['meeting_id'], ['meetings.id'], name=op.f('fk_transcripts_meeting_id_meetings'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_transcripts')),
        sa.UniqueConstraint('job_id', name=op.f('uq_transcripts_job_id')),
        sa.UniqueConstraint('room_name', name=op.f('uq_transcripts_room_name')),
    )
    op.create_index(op.f('ix_transcripts_meeting_id'), 'transcripts', ['meeting_id'], unique=False)
    op.create_table(
        'transcript_segments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('transcript_id', sa.Integer(), nullable=False),
        sa.Column('segment_id', sa.String(length=64), nullable=False),
        sa.Column('identity', sa.String(length=255), nullable=False),
        sa.Column('display_name', sa.String(length=255), nullable=False),
        sa.Column('start', sa.Float(), nullable=False),
        sa.Column('end', sa.Float(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['transcript_id'], ['transcripts.id'],
            name=op.f('fk_transcript_segments_transcript_id_transcripts'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript_segments')),
        sa.UniqueConstraint(
            'transcript_id', 'segment_id',
            name=op.f('uq_transcript_segments_transcript_id_segment_id'),
        ),
    )
    op.create_index(
        op.f('ix_transcript_segments_transcript_id'), 'transcript_segments', ['transcript_id'],
        unique=False,
    )


def downgrade():
    op.drop_index(op.f('ix_transcript_segments_transcript_id'), table_name='transcript_segments')
    op.drop_table('transcript_segments')
    op.drop_index(op.f('ix_transcripts_meeting_id'), table_name='transcripts')
    op.drop_table('transcripts')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_column('captions')
