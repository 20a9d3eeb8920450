"""What happened in a meeting, read from the derived records: sessions, who attended when,
for how long and with which tracks."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from meetings.csv_export import to_csv
from meetings.extensions import db
from meetings.models import (
    Attendance,
    Meeting,
    MeetingSession,
    TrackPublication,
    Transcript,
    TranscriptSegment,
)
from meetings.scheduling import recurrence as rec

# The order people read track kinds in.
SOURCE_ORDER = ("microphone", "camera", "screen_share", "screen_share_audio", "unknown")
SOURCE_LABELS = {
    "microphone": "Microphone",
    "camera": "Camera",
    "screen_share": "Screen share",
    "screen_share_audio": "Screen share audio",
    "unknown": "Other",
}


@dataclass(frozen=True)
class Interval:
    """One join/leave interval; `left_at` is None while the person is still in the room."""

    id: int
    session_id: int | None
    identity: str
    display_name: str
    joined_at: datetime | None
    left_at: datetime | None
    seconds: int | None
    # The leave was never reported but the session is over: it ended with the session.
    ended_with_session: bool = False


def interval_of(row: Attendance, session: MeetingSession | None) -> Interval:
    left_at, seconds, ended_with_session = row.left_at, row.seconds, False
    if left_at is None and session is not None and session.ended_at is not None:
        left_at, ended_with_session = session.ended_at, True
    if seconds is None and row.joined_at is not None and left_at is not None:
        seconds = max(0, round((left_at - row.joined_at).total_seconds()))
    return Interval(
        id=row.id,
        session_id=row.session_id,
        identity=row.identity,
        display_name=row.display_name,
        joined_at=row.joined_at,
        left_at=left_at,
        seconds=seconds,
        ended_with_session=ended_with_session,
    )


def sessions_for(meeting: Meeting, occurrence_key: str | None = None) -> list[MeetingSession]:
    """The meeting's sessions (each life of an occurrence's room), earliest first."""
    query = sa.select(MeetingSession).where(MeetingSession.meeting_id == meeting.id)
    if occurrence_key is not None:
        query = query.where(MeetingSession.occurrence_key == occurrence_key)
    return list(db.session.scalars(query.order_by(MeetingSession.started_at, MeetingSession.id)))


def intervals_for(meeting: Meeting, occurrence_key: str | None = None) -> list[Interval]:
    """Every join/leave interval in the meeting (connections that never carried media left
    out), earliest join first."""
    query = (
        sa.select(Attendance, MeetingSession)
        .outerjoin(MeetingSession, Attendance.session_id == MeetingSession.id)
        .where(Attendance.meeting_id == meeting.id, Attendance.aborted.is_(False))
        .order_by(Attendance.joined_at, Attendance.id)
    )
    if occurrence_key is not None:
        query = query.where(MeetingSession.occurrence_key == occurrence_key)
    return [interval_of(row, session) for row, session in db.session.execute(query)]


@dataclass
class Person:
    """Everything one person (one identity) did in an occurrence."""

    identity: str
    display_name: str
    intervals: list[Interval] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def total_seconds(self) -> int:
        return sum(interval.seconds or 0 for interval in self.intervals)

    @property
    def first_joined(self) -> datetime | None:
        return min((i.joined_at for i in self.intervals if i.joined_at), default=None)

    @property
    def last_left(self) -> datetime | None:
        if any(i.left_at is None for i in self.intervals):
            return None  # still in the room
        return max((i.left_at for i in self.intervals if i.left_at), default=None)

    @property
    def source_labels(self) -> list[str]:
        return [SOURCE_LABELS.get(source, source) for source in self.sources]


@dataclass
class OccurrenceSummary:
    """One occurrence as it really happened, summed over its sessions."""

    meeting: Meeting
    key: str
    sessions: list[MeetingSession]

    @property
    def scheduled(self) -> rec.Occurrence | None:
        return rec.occurrence_by_key(self.meeting, self.key)

    @property
    def started_at(self) -> datetime | None:
        return min((s.started_at for s in self.sessions if s.started_at), default=None)

    @property
    def ended_at(self) -> datetime | None:
        if any(s.ended_at is None for s in self.sessions):
            return None  # a room of this occurrence is still live
        return max((s.ended_at for s in self.sessions if s.ended_at), default=None)

    @property
    def end_inferred(self) -> bool:
        return any(s.end_inferred for s in self.sessions)

    @property
    def duration_seconds(self) -> int:
        return sum(s.duration_seconds or 0 for s in self.sessions)

    @property
    def peak_participants(self) -> int:
        return max((s.peak_participants for s in self.sessions), default=0)

    @property
    def participant_seconds(self) -> int:
        return sum(s.participant_seconds for s in self.sessions)

    @property
    def reopened(self) -> bool:
        """The room closed and opened again: one "opened … closed" pair would hide the gap."""
        return len(self.sessions) > 1

    def session_number(self, session_id: int | None) -> int | None:
        """The session's place in the occurrence, counted from 1, as hosts read it."""
        numbers = {session.id: number for number, session in enumerate(self.sessions, 1)}
        return numbers.get(session_id)


def occurrence_summaries(meeting: Meeting) -> list[OccurrenceSummary]:
    """Occurrences that have at least one session, latest first."""
    by_key: dict[str, list[MeetingSession]] = defaultdict(list)
    for session in sessions_for(meeting):
        by_key[session.occurrence_key or ""].append(session)
    summaries = [OccurrenceSummary(meeting, key, sessions) for key, sessions in by_key.items()]
    return sorted(summaries, key=lambda s: s.key, reverse=True)


def distinct_people(meeting: Meeting) -> dict[str, int]:
    """How many different people attended each occurrence, by occurrence key."""
    query = (
        sa.select(MeetingSession.occurrence_key, sa.func.count(sa.distinct(Attendance.identity)))
        .join(MeetingSession, Attendance.session_id == MeetingSession.id)
        .where(MeetingSession.meeting_id == meeting.id, Attendance.aborted.is_(False))
        .group_by(MeetingSession.occurrence_key)
    )
    return {key or "": number for key, number in db.session.execute(query)}


def transcribed_keys(meeting: Meeting) -> set[str]:
    """Occurrences whose transcript holds something said (meetings/transcripts shows it;
    the ledger only links to it)."""
    query = (
        sa.select(Transcript.occurrence_key)
        .where(Transcript.meeting_id == meeting.id)
        .where(sa.exists().where(TranscriptSegment.transcript_id == Transcript.id))
    )
    return set(db.session.scalars(query))


@dataclass
class OccurrenceReport:
    summary: OccurrenceSummary
    people: list[Person]


def occurrence_report(meeting: Meeting, key: str) -> OccurrenceReport:
    """Attendance of one occurrence per person, in order of first join."""
    summary = OccurrenceSummary(meeting, key, sessions_for(meeting, key))
    people: dict[str, Person] = {}
    for interval in intervals_for(meeting, key):
        person = people.setdefault(
            interval.identity, Person(interval.identity, interval.display_name)
        )
        person.display_name = interval.display_name or person.display_name
        person.intervals.append(interval)
    session_ids = [s.id for s in summary.sessions]
    if session_ids:
        published = db.session.execute(
            sa.select(TrackPublication.identity, TrackPublication.source)
            .where(TrackPublication.session_id.in_(session_ids))
            .distinct()
        )
        sources: dict[str, set[str]] = defaultdict(set)
        for identity, source in published:
            sources[identity].add(source)
        for identity, person in people.items():
            person.sources = sorted(sources[identity], key=_source_rank)
    return OccurrenceReport(summary, list(people.values()))


def _source_rank(source: str) -> int:
    return SOURCE_ORDER.index(source) if source in SOURCE_ORDER else len(SOURCE_ORDER)


CSV_COLUMNS = (
    "display_name",
    "identity",
    "joined_at",
    "left_at",
    "seconds",
    "session_id",
    "published",
    # Added after the columns above, so that existing spreadsheets keep their columns.
    "session",
    "session_opened_at",
    "session_closed_at",
)


def as_csv(report: OccurrenceReport) -> str:
    """One line per join/leave interval, with the session of the room it was in (the room
    may have closed and opened again); spreadsheet formulas in names are neutralised."""
    summary = report.summary
    sessions = {session.id: session for session in summary.sessions}
    rows = (
        {
            "display_name": person.display_name,
            "identity": person.identity,
            "joined_at": _iso(interval.joined_at),
            "left_at": _iso(interval.left_at),
            "seconds": "" if interval.seconds is None else interval.seconds,
            "session_id": interval.session_id or "",
            "published": " ".join(person.sources),
            "session": summary.session_number(interval.session_id) or "",
            "session_opened_at": _iso(_session_time(sessions, interval.session_id, "started_at")),
            "session_closed_at": _iso(_session_time(sessions, interval.session_id, "ended_at")),
        }
        for person in report.people
        for interval in person.intervals
    )
    return to_csv(CSV_COLUMNS, rows)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment else ""


def _session_time(sessions: dict, session_id: int | None, name: str) -> datetime | None:
    session = sessions.get(session_id)
    return getattr(session, name) if session is not None else None
