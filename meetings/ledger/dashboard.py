"""What ops look at: live rooms joined with our meetings, the health of the LiveKit link,
usage per day or week, and the ledger's recent events. Every number is read from the
ledger's derived records, so the dashboard and the API agree with it."""

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from meetings import livekit_gateway as gateway
from meetings.extensions import db
from meetings.models import (
    Attendance,
    Meeting,
    MeetingSession,
    ProcessingResult,
    WebhookEvent,
    WebhookRejection,
)
from meetings.scheduling import room_names

BUCKETS = ("day", "week")
EVENT_PAGE_SIZE = 200


# ---- live rooms -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveRoomView:
    """A room live on the server, with what we know about it."""

    name: str
    sid: str
    meeting: Meeting | None
    occurrence_key: str | None
    participants: int  # the server's count
    ledger_participants: int  # people whose join we recorded and whose leave we did not
    started_at: datetime | None
    duration_seconds: int | None
    session_known: bool  # the ledger has this room's session

    @property
    def unknown(self) -> bool:
        return self.meeting is None


@dataclass(frozen=True)
class LiveRooms:
    rooms: list[LiveRoomView]
    latency_ms: int


def live_rooms(now: datetime | None = None) -> LiveRooms:
    """Ask the server which rooms are live, and join them with meetings and the ledger.

    Raises:
        LiveKitUnavailable: the server did not answer.
    """
    began = time.monotonic()
    rooms = gateway.list_rooms()
    latency_ms = round((time.monotonic() - began) * 1000)
    now = now or datetime.now(UTC)
    sids = [room.sid for room in rooms if room.sid]
    sessions = {
        s.room_sid: s
        for s in db.session.scalars(
            sa.select(MeetingSession).where(MeetingSession.room_sid.in_(sids))
        )
    }
    present = _people_in_rooms([s.id for s in sessions.values()])
    meetings = _meetings_by_slug(room.name for room in rooms)
    views = []
    for room in rooms:
        session = sessions.get(room.sid)
        parsed = room_names.parse(room.name)
        meeting = meetings.get(parsed.slug) if parsed else None
        started = room.created_at or (session.started_at if session else None)
        views.append(
            LiveRoomView(
                name=room.name,
                sid=room.sid,
                meeting=meeting,
                occurrence_key=parsed.occurrence_key if parsed and meeting else None,
                participants=room.num_participants,
                ledger_participants=present.get(session.id, 0) if session else 0,
                started_at=started,
                duration_seconds=round((now - started).total_seconds()) if started else None,
                session_known=session is not None,
            )
        )
    views.sort(key=lambda view: view.started_at or now)
    return LiveRooms(views, latency_ms)


def _people_in_rooms(session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    query = (
        sa.select(Attendance.session_id, sa.func.count(sa.distinct(Attendance.identity)))
        .where(
            Attendance.session_id.in_(session_ids),
            Attendance.left_at.is_(None),
            Attendance.aborted.is_(False),
        )
        .group_by(Attendance.session_id)
    )
    return {session_id: number for session_id, number in db.session.execute(query)}


def _meetings_by_slug(names) -> dict[str, Meeting]:
    slugs = {parsed.slug for name in names if (parsed := room_names.parse(name))}
    if not slugs:
        return {}
    query = (
        sa.select(Meeting).where(Meeting.slug.in_(slugs)).options(sa.orm.selectinload(Meeting.host))
    )
    return {meeting.slug: meeting for meeting in db.session.scalars(query)}


# ---- health ---------------------------------------------------------------------------------


@dataclass
class LedgerHealth:
    """How the webhook stream looks from our side."""

    last_event_at: datetime | None
    events_24h: int
    failed_7d: int
    unknown_room_7d: int
    open_sessions: int
    pending: int  # stored and answered, not derived yet: more than a moment means trouble
    rejections_7d: dict[str, int] = field(default_factory=dict)

    @property
    def rejected_7d(self) -> int:
        return sum(self.rejections_7d.values())


def ledger_health(now: datetime | None = None) -> LedgerHealth:
    now = now or datetime.now(UTC)
    day_ago, week_ago = now - timedelta(days=1), now - timedelta(days=7)

    def events(*conditions) -> int:
        query = sa.select(sa.func.count()).select_from(WebhookEvent).where(*conditions)
        return db.session.scalar(query)

    rejections = db.session.execute(
        sa.select(WebhookRejection.reason, sa.func.sum(WebhookRejection.count))
        .where(WebhookRejection.day >= week_ago.date())
        .group_by(WebhookRejection.reason)
        .order_by(WebhookRejection.reason)
    )
    return LedgerHealth(
        last_event_at=db.session.scalar(sa.select(sa.func.max(WebhookEvent.received_at))),
        events_24h=events(WebhookEvent.received_at >= day_ago),
        failed_7d=events(
            WebhookEvent.received_at >= week_ago, WebhookEvent.result == ProcessingResult.FAILED
        ),
        unknown_room_7d=events(
            WebhookEvent.received_at >= week_ago, WebhookEvent.unknown_room.is_(True)
        ),
        open_sessions=db.session.scalar(
            sa.select(sa.func.count())
            .select_from(MeetingSession)
            .where(MeetingSession.ended_at.is_(None))
        ),
        pending=events(WebhookEvent.result == ProcessingResult.PENDING),
        rejections_7d={reason: int(number) for reason, number in rejections},
    )


# ---- usage ----------------------------------------------------------------------------------


@dataclass
class UsageBucket:
    """Sessions that started in [start, start + one day or week), UTC."""

    start: date
    sessions: int = 0
    meeting_seconds: int = 0
    participant_seconds: int = 0
    peak_participants: int = 0
    identities: set[str] = field(default_factory=set)

    @property
    def participants(self) -> int:
        """Different people (identities) in any meeting of the bucket."""
        return len(self.identities)

    @property
    def meeting_minutes(self) -> float:
        return round(self.meeting_seconds / 60, 1)

    @property
    def participant_minutes(self) -> float:
        return round(self.participant_seconds / 60, 1)


def bucket_start(day: date, bucket: str) -> date:
    return day - timedelta(days=day.weekday()) if bucket == "week" else day


def usage(
    start: datetime, end: datetime, bucket: str, now: datetime | None = None
) -> list[UsageBucket]:
    """Meeting minutes, participants and sessions per day or ISO week (Monday), every
    bucket from `start` to `end` included even when empty. A session counts in the bucket
    it started in; one still running counts up to now."""
    now = now or datetime.now(UTC)
    first, last = bucket_start(start.date(), bucket), bucket_start(end.date(), bucket)
    step = timedelta(days=7 if bucket == "week" else 1)
    buckets: dict[date, UsageBucket] = {}
    day = first
    while day <= last:
        buckets[day] = UsageBucket(day)
        day += step
    sessions = list(
        db.session.scalars(
            sa.select(MeetingSession).where(
                MeetingSession.started_at >= start, MeetingSession.started_at < end
            )
        )
    )
    people: dict[int, set[str]] = defaultdict(set)
    if sessions:
        query = sa.select(Attendance.session_id, Attendance.identity).where(
            Attendance.session_id.in_([s.id for s in sessions]), Attendance.aborted.is_(False)
        )
        for session_id, identity in db.session.execute(query):
            people[session_id].add(identity)
    for session in sessions:
        into = buckets.get(bucket_start(session.started_at.date(), bucket))
        if into is None:
            continue
        ended = session.ended_at or now
        into.sessions += 1
        into.meeting_seconds += max(0, round((ended - session.started_at).total_seconds()))
        into.participant_seconds += session.participant_seconds
        into.peak_participants = max(into.peak_participants, session.peak_participants)
        into.identities |= people[session.id]
    return list(buckets.values())


# ---- recent events --------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    event: str | None = None
    room: str = ""  # part of the room name (the meeting's slug works)
    result: ProcessingResult | None = None
    unknown_room: bool = False


def recent_events(wanted: EventFilter, limit: int = EVENT_PAGE_SIZE) -> list[WebhookEvent]:
    """The ledger's events, newest first, as filtered."""
    query = (
        sa.select(WebhookEvent)
        .options(sa.orm.selectinload(WebhookEvent.meeting))
        .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id)
        .limit(limit)
    )
    if wanted.event:
        query = query.where(WebhookEvent.event == wanted.event)
    if wanted.room:
        query = query.where(WebhookEvent.room_name.contains(wanted.room, autoescape=True))
    if wanted.result is not None:
        query = query.where(WebhookEvent.result == wanted.result)
    if wanted.unknown_room:
        query = query.where(WebhookEvent.unknown_room.is_(True))
    return list(db.session.scalars(query))
