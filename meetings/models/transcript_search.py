"""The full-text index over transcript segments, one per database.

SQLite: an external-content FTS5 table (`transcript_segments_fts`, the Porter stemmer over
Unicode words) that triggers keep in step with `transcript_segments`; the text itself is
stored once, in the segments table. PostgreSQL: a GIN index on
`to_tsvector('english', text)`, which `@@ plainto_tsquery('english', ...)` uses.

Neither is a table of the models: they are made with the segments table (`create_all`, as
the tests do) and by migration b4b1c0de0014 (installations), and migrations/env.py keeps
autogenerate from reporting them. meetings/transcripts/search.py queries them.

A later migration that rebuilds `transcript_segments` on SQLite (batch mode copies and drops
the table) drops the triggers with it: it must make them again (see SQLITE_CREATE).
"""

import sqlalchemy as sa

from meetings.models.captions import TranscriptSegment

FTS_TABLE = "transcript_segments_fts"
SEARCH_CONFIG = "english"  # PostgreSQL's text search configuration, in index and query
PG_INDEX = "ix_transcript_segments_text_search"

# Written out (not built from the names above): DDL is reviewed as it runs.
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
)
# The triggers go with the segments table.
SQLITE_DROP = ("DROP TABLE IF EXISTS transcript_segments_fts",)

POSTGRESQL_CREATE = (
    "CREATE INDEX IF NOT EXISTS ix_transcript_segments_text_search ON transcript_segments "
    "USING gin (to_tsvector('english', text))",
)


def is_search_index(name: str | None) -> bool:
    """A table or index of the search index (FTS5 keeps its own shadow tables)."""
    return bool(name) and (name == PG_INDEX or name.startswith(FTS_TABLE))


def _run(statements: tuple[str, ...], dialect: str):
    def run(target, connection, **kw) -> None:
        if connection.dialect.name == dialect:
            for statement in statements:
                connection.exec_driver_sql(statement)

    return run


_segments = TranscriptSegment.__table__
sa.event.listen(_segments, "after_create", _run(SQLITE_CREATE, "sqlite"))
sa.event.listen(_segments, "after_create", _run(POSTGRESQL_CREATE, "postgresql"))
sa.event.listen(_segments, "before_drop", _run(SQLITE_DROP, "sqlite"))
