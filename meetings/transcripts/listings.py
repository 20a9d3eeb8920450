"""Reads of stored transcripts: a meeting's occurrences with one, one occurrence's segments,
and the part of a transcript a recording holds. meetings/captions writes them."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import Meeting, Recording, Transcript, TranscriptSegment
from meetings.transcripts import exports


@dataclass(frozen=True)
class Speaker:
    identity: str
    display_name: str


@dataclass(frozen=True)
class TranscriptSummary:
    """An occurrence's transcript: when it starts, how many segments, who spoke."""

    transcript: Transcript
    segment_count: int
    speakers: list[Speaker]

    @property
    def occurrence_key(self) -> str:
        return self.transcript.occurrence_key

    @property
    def started_at(self) -> datetime:
        """Segment times count from here (when captions first started)."""
        return self.transcript.origin_at


def transcribed_occurrences(meeting: Meeting) -> list[TranscriptSummary]:
    """The meeting's occurrences in which something was transcribed, latest first."""
    counts = dict(
        db.session.execute(
            sa.select(TranscriptSegment.transcript_id, sa.func.count())
            .join(Transcript, TranscriptSegment.transcript_id == Transcript.id)
            .where(Transcript.meeting_id == meeting.id)
            .group_by(TranscriptSegment.transcript_id)
        ).all()
    )
    if not counts:
        return []
    transcripts = db.session.scalars(
        sa.select(Transcript)
        .where(Transcript.id.in_(counts))
        .order_by(Transcript.origin_at.desc(), Transcript.id.desc())
    ).all()
    speakers = _speakers(list(counts))
    return [
        TranscriptSummary(transcript, counts[transcript.id], speakers.get(transcript.id, []))
        for transcript in transcripts
    ]


def _speakers(transcript_ids: list[int]) -> dict[int, list[Speaker]]:
    """Who spoke in each transcript, in order of first words (one name per identity: the
    first one heard)."""
    rows = db.session.execute(
        sa.select(
            TranscriptSegment.transcript_id,
            TranscriptSegment.identity,
            TranscriptSegment.display_name,
            sa.func.min(TranscriptSegment.start).label("first_start"),
        )
        .where(TranscriptSegment.transcript_id.in_(transcript_ids))
        .group_by(
            TranscriptSegment.transcript_id,
            TranscriptSegment.identity,
            TranscriptSegment.display_name,
        )
        .order_by(sa.literal_column("first_start"), TranscriptSegment.identity)
    )
    speakers: dict[int, dict[str, Speaker]] = {}
    for transcript_id, identity, display_name, _ in rows:
        speakers.setdefault(transcript_id, {}).setdefault(identity, Speaker(identity, display_name))
    return {key: list(by_identity.values()) for key, by_identity in speakers.items()}


def transcript_of(meeting: Meeting, occurrence_key: str) -> Transcript | None:
    """The occurrence's transcript, if captions were ever on in it."""
    return db.session.scalar(
        sa.select(Transcript)
        .where(Transcript.meeting_id == meeting.id, Transcript.occurrence_key == occurrence_key)
        .order_by(Transcript.origin_at, Transcript.id)
        .limit(1)
    )


def segments_of(transcript: Transcript) -> list[TranscriptSegment]:
    """What was said, in the order it was said."""
    return list(
        db.session.scalars(
            sa.select(TranscriptSegment)
            .where(TranscriptSegment.transcript_id == transcript.id)
            .order_by(TranscriptSegment.start, TranscriptSegment.end, TranscriptSegment.id)
        )
    )


@dataclass(frozen=True)
class RecordingCaptions:
    language: str
    cues: list[exports.Cue]


def recording_captions(recording: Recording) -> RecordingCaptions:
    """What was said while the recording ran, timed from its start (no cues when its
    occurrence has no transcript, or nothing was said in its span)."""
    span = exports.recording_span(recording)
    transcript = db.session.scalar(
        sa.select(Transcript).where(Transcript.room_name == recording.room_name)
    )
    if span is None or transcript is None:
        return RecordingCaptions("en", [])
    # Only the segments that may overlap the span are read; recording_cues cuts exactly.
    started, ended = span
    query = sa.select(TranscriptSegment).where(
        TranscriptSegment.transcript_id == transcript.id,
        TranscriptSegment.end >= (started - transcript.origin_at).total_seconds() - 1,
    )
    if ended is not None:
        query = query.where(
            TranscriptSegment.start <= (ended - transcript.origin_at).total_seconds() + 1
        )
    cues = exports.recording_cues(transcript, db.session.scalars(query), recording)
    return RecordingCaptions(transcript.language or "en", cues)


def speakers_in(segments: list[TranscriptSegment]) -> list[Speaker]:
    """Who spoke, in order of first words (the first name heard for each identity)."""
    speakers: dict[str, Speaker] = {}
    for segment in segments:
        speakers.setdefault(segment.identity, Speaker(segment.identity, segment.display_name))
    return list(speakers.values())


@dataclass(frozen=True)
class Line:
    """One segment as the transcript page shows it."""

    id: int
    identity: str
    speaker: str
    clock: str  # from the transcript's start, as in the text file
    at: datetime
    text: str


def lines_of(transcript: Transcript, segments: list[TranscriptSegment]) -> list[Line]:
    return [
        Line(
            id=segment.id,
            identity=segment.identity,
            speaker=exports.speaker_of(segment),
            clock=exports.clock(segment.start),
            at=transcript.origin_at + timedelta(seconds=max(segment.start, 0)),
            text=segment.text,
        )
        for segment in segments
    ]
