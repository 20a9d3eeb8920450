"""transcripts: the full-text index over segments (SQLite FTS5, PostgreSQL GIN)

Neither is a table of the models (meetings/models/transcript_search.py makes the same
objects with the segments table; migrations/env.py keeps autogenerate from reporting them).
On SQLite: an external-content FTS5 table kept in step by triggers, filled from the segments
already stored. On PostgreSQL: a GIN index on to_tsvector('english', text). Nothing on
other databases.

Revision ID: b4b1c0de0014
Revises: b3b1c0de0013
Create Date: 2026-12-07 09:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b4b1c0de0014'
down_revision = 'b3b1c0de0013'
branch_labels = None
depends_on = None

# Copied from meetings/models/transcript_search.py as it was: a migration stays as written.
SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS transcript_segments_fts USING fts5(text, "
    "content='transcript_segments', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS transcript_segments_fts_insert "
    "AFTER INSERT ON transcript_segments BEGIN "
    "INSERT INTO transcript_segments_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS transcript_segments_fts_delete "
    "AFTER DELETE ON transcript_segments BEGIN "
    "INSERT INTO transcript_segments_fts(transcript_segments_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS transcript_segments_fts_update "
    "AFTER UPDATE OF text ON transcript_segments BEGIN "
    "INSERT INTO transcript_segments_fts(transcript_segments_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); "
    "INSERT INTO transcript_segments_fts(rowid, text) VALUES (new.id, new.text); END",
    # Index the segments stored before this migration.
    "INSERT INTO transcript_segments_fts(transcript_segments_fts) VALUES ('rebuild')",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS transcript_segments_fts_update",
    "DROP TRIGGER IF EXISTS transcript_segments_fts_delete",
    "DROP TRIGGER IF EXISTS transcript_segments_fts_insert",
    "DROP TABLE IF EXISTS transcript_segments_fts",
)
POSTGRESQL_CREATE = (
    "CREATE INDEX IF NOT EXISTS ix_transcript_segments_text_search ON transcript_segments "
    "USING gin (to_tsvector('english', text))",
)
POSTGRESQL_DROP = ("DROP INDEX IF EXISTS ix_transcript_segments_text_search",)


def _run(by_dialect):
    for statement in by_dialect.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade():
    _run({'sqlite': SQLITE_CREATE, 'postgresql': POSTGRESQL_CREATE})


def downgrade():
    _run({'sqlite': SQLITE_DROP, 'postgresql': POSTGRESQL_DROP})
