"""Full-text search over the transcripts of a person's own meetings, and the highlight of
what matched.

The database does the matching with its own index (meetings/models/transcript_search.py):
SQLite's FTS5 (Porter stemmer) or PostgreSQL's `english` text search; both find "meetings"
for "meeting", and every word of the query must be in the segment.
"""

import re
from dataclasses import dataclass

import sqlalchemy as sa
from markupsafe import Markup, escape

from meetings.extensions import db
from meetings.models import Meeting, Transcript, TranscriptSegment, User
from meetings.models.transcript_search import FTS_TABLE, SEARCH_CONFIG

MIN_QUERY_CHARS = 2
MAX_QUERY_WORDS = 12
MAX_HITS = 50

WORD = re.compile(r"\w+")


class QueryTooShort(ValueError):
    """No word to look for, or fewer than MIN_QUERY_CHARS letters and digits."""


@dataclass(frozen=True)
class Hit:
    segment: TranscriptSegment
    transcript: Transcript
    meeting: Meeting


def query_words(query: str) -> list[str]:
    """The words of a query, lower case, at most MAX_QUERY_WORDS.

    Raises:
        QueryTooShort: nothing worth looking for.
    """
    words = WORD.findall(query.lower())[:MAX_QUERY_WORDS]
    if sum(len(word) for word in words) < MIN_QUERY_CHARS:
        raise QueryTooShort(query)
    return words


def search(user: User, query: str, limit: int = MAX_HITS) -> list[Hit]:
    """Segments of the transcripts of meetings `user` hosts or co-hosts that contain every
    word of `query`, newest occurrence first, then in the order they were said.

    Raises:
        QueryTooShort: see query_words.
    """
    words = query_words(query)
    own_meetings = sa.select(Meeting.id).where(
        sa.or_(Meeting.host_id == user.id, Meeting.co_hosts.any(User.id == user.id))
    )
    statement = (
        sa.select(TranscriptSegment, Transcript, Meeting)
        .join(Transcript, TranscriptSegment.transcript_id == Transcript.id)
        .join(Meeting, Transcript.meeting_id == Meeting.id)
        .where(Meeting.id.in_(own_meetings), text_matches(words))
        .order_by(Transcript.origin_at.desc(), TranscriptSegment.start, TranscriptSegment.id)
        .limit(limit)
    )
    return [Hit(*row) for row in db.session.execute(statement)]


def text_matches(words: list[str]) -> sa.ColumnElement[bool]:
    """The segment's text contains every word, as the database's full-text index sees it."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        # The expression is the GIN index's, word for word, so that the index is used.
        config = sa.literal_column(f"'{SEARCH_CONFIG}'")
        document = sa.func.to_tsvector(config, TranscriptSegment.text)
        return document.op("@@")(sa.func.plainto_tsquery(config, " ".join(words)))
    if dialect == "sqlite":
        fts = sa.table(FTS_TABLE, sa.column("rowid"), sa.column("text"))
        # Each word quoted: a query is words to find, never FTS5 syntax (NEAR, OR, col:).
        phrase = " ".join(f'"{word}"' for word in words)
        return TranscriptSegment.id.in_(sa.select(fts.c.rowid).where(fts.c.text.match(phrase)))
    # Another database: no index, no stemming, but the same answer for whole words.
    return sa.and_(*(TranscriptSegment.text.icontains(word, autoescape=True) for word in words))


# ---- the highlight -------------------------------------------------------------------------

SUFFIXES = ("ing", "ed", "es", "s", "ly")


def stem(word: str) -> str:
    """A rough root, so that the highlight finds what the stemming index found ("running"
    for "run", "meetings" for "meeting")."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]  # "runn" -> "run"
    return word


def highlight(text: str, query: str) -> Markup:
    """`text` with the words that match `query` in `<mark>`. The text is cut at the matches
    and each piece escaped on its own, so nothing said can become markup, and a query
    cannot match inside an escape (`&lt;`)."""
    try:
        roots = sorted({stem(word) for word in query_words(query)}, key=len, reverse=True)
    except QueryTooShort:
        return escape(text)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, roots)) + r")\w*", re.IGNORECASE)
    pieces, last = [], 0
    for match in pattern.finditer(text):
        pieces.append(escape(text[last : match.start()]))
        pieces.append(Markup("<mark>%s</mark>") % match.group())
        last = match.end()
    pieces.append(escape(text[last:]))
    return Markup("").join(pieces)
