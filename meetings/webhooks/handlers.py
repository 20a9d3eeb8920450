"""What each kind of LiveKit event changes in the derived records.

Events come at least once and in any order (retries; egress events have no order with room
events; our own concurrency). So every handler is idempotent and order-tolerant:

- rows are keyed by LiveKit ids (room sid, participant sid, track sid) and made by whichever
  of their events comes first;
- each field is written by one kind of event only, or always to the same value;
- the session's aggregates are recomputed from its intervals, never counted up or down.

Applying the same set of events in any order therefore gives the same rows.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from meetings import livekit_gateway as gateway
from meetings.after_commit import after_commit
from meetings.captions import worker_events as captions_events
from meetings.extensions import db
from meetings.models import Attendance, Meeting, MeetingSession, ProcessingResult, TrackPublication
from meetings.models.ledger import WORKER_EVENT_PREFIX
from meetings.recordings import egress_events, worker_events
from meetings.rooms import decisions as host_decisions
from meetings.scheduling import room_names
from meetings.streaming import livekit_ingress
from meetings.streaming import worker_events as stream_events

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoomRef:
    """The room an event is about, and the meeting occurrence it belongs to (if any)."""

    name: str
    sid: str
    meeting_id: int | None
    occurrence_key: str | None

    @property
    def unknown(self) -> bool:
        """A room the app never created: no meeting of ours has this name."""
        return bool(self.name) and self.meeting_id is None


def room_name_of(event: gateway.WebhookEvent) -> str | None:
    return event.room.name or event.egress_info.room_name or event.ingress_info.room_name or None


def room_of(event: gateway.WebhookEvent) -> RoomRef | None:
    name = room_name_of(event)
    if not name:
        return None
    sid = event.room.sid or event.egress_info.room_id
    return RoomRef(name, sid, *occurrence_of_room(name))


def room_named(name: str) -> RoomRef | None:
    """The room a worker event names (worker events carry no room sid)."""
    return RoomRef(name, "", *occurrence_of_room(name)) if name else None


def occurrence_of_room(name: str) -> tuple[int | None, str | None]:
    """(meeting id, occurrence key) of one of our rooms; (None, None) for any other."""
    parsed = room_names.parse(name)
    if parsed is None:
        return None, None
    meeting_id = db.session.scalar(sa.select(Meeting.id).where(Meeting.slug == parsed.slug))
    if meeting_id is None:
        return None, None
    return meeting_id, parsed.occurrence_key


def apply(event: gateway.WebhookEvent, room: RoomRef | None) -> ProcessingResult:
    """Update the derived records for one new event; says what was done with it."""
    handler = HANDLERS.get(event.event, _keep_only)
    result = handler(event, room)
    if egress_events.apply_webhook(event):  # egress jobs, who is present, rooms that end
        result = ProcessingResult.APPLIED
    if stream_events.apply_egress(event):  # streams through Egress (RECORDER=egress)
        result = ProcessingResult.APPLIED
    if livekit_ingress.apply_webhook(event):  # ingests through Ingress (INGRESS=livekit)
        result = ProcessingResult.APPLIED
    return result


def apply_worker(event: gateway.WorkerEvent, room: RoomRef | None) -> ProcessingResult:
    """Update the derived records for one new media worker event; kinds we do not know are
    kept and ignored (a newer worker's)."""
    if (
        worker_events.apply_worker_event(event)
        or captions_events.apply_worker_event(event)
        or stream_events.apply_worker_event(event)
    ):
        return ProcessingResult.APPLIED
    return ProcessingResult.IGNORED


def from_epoch(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _from_millis(millis: int) -> datetime | None:
    return datetime.fromtimestamp(millis / 1000, UTC) if millis else None


def _event_time(event: gateway.WebhookEvent) -> datetime:
    return from_epoch(event.created_at) or datetime.now(UTC)


# ---- rooms ----------------------------------------------------------------------------------


def _session(event: gateway.WebhookEvent, room: RoomRef | None) -> MeetingSession | None:
    """The session of the event's room, made if this is its first event; locked (on
    PostgreSQL) so that concurrent events of one room are derived one after the other."""
    if room is None or not room.sid:
        return None
    query = sa.select(MeetingSession).where(MeetingSession.room_sid == room.sid)
    session = db.session.scalar(query.with_for_update())
    if session is None:
        session = MeetingSession(
            room_sid=room.sid,
            room_name=room.name,
            meeting_id=room.meeting_id,
            occurrence_key=room.occurrence_key,
        )
        db.session.add(session)
        # A concurrent first event of the same room fails here; the caller starts again.
        db.session.flush()
    # Every event that carries the room carries its creation time: the same value each time.
    created = _from_millis(event.room.creation_time_ms) or from_epoch(event.room.creation_time)
    if created is not None:
        session.started_at = created
    at = from_epoch(event.created_at)
    if at is not None and (session.last_event_at is None or at > session.last_event_at):
        session.last_event_at = at
    return session


def _room_started(event: gateway.WebhookEvent, room: RoomRef | None) -> ProcessingResult:
    session = _session(event, room)
    if session is None:
        return ProcessingResult.IGNORED
    if session.started_at is None:
        session.started_at = _event_time(event)
    return ProcessingResult.APPLIED


def _room_finished(event: gateway.WebhookEvent, room: RoomRef | None) -> ProcessingResult:
    closed = room is not None and captions_events.room_closed(room.name)
    closed = (room is not None and stream_events.room_closed(room.name)) or closed
    session = _session(event, room)
    if session is None:
        return ProcessingResult.APPLIED if closed else ProcessingResult.IGNORED
    session.ended_at = _event_time(event)
    session.end_inferred = False  # the server's word replaces a reconcile guess
    recount(session)
    return ProcessingResult.APPLIED


# ---- participants ---------------------------------------------------------------------------


def _participant(event: gateway.WebhookEvent, room: RoomRef | None) -> ProcessingResult:
    info = event.participant
    if not info.sid:
        return ProcessingResult.IGNORED
    # The media worker's jobs and egress recorders are not people: never attendance. A
    # recorder that leaves mid-recording was lost; a captioner that leaves while captions
    # are on is dispatched again.
    if gateway.is_worker_participant(info):
        gone = event.event in ("participant_left", "participant_connection_aborted")
        if gone and (
            worker_events.recorder_left(info.identity)
            or captions_events.captioner_left(info.identity, room.name if room else "")
            or stream_events.stream_job_left(info.identity, room.name if room else "")
        ):
            return ProcessingResult.APPLIED
        return ProcessingResult.IGNORED
    session = _session(event, room)
    row = db.session.scalar(sa.select(Attendance).where(Attendance.participant_sid == info.sid))
    if row is None:
        row = Attendance(
            participant_sid=info.sid,
            room_name=room.name if room else "",
            meeting_id=room.meeting_id if room else None,
            identity=info.identity,
            display_name="",
        )
        db.session.add(row)
    if session is not None:
        row.session_id = session.id
    row.identity = info.identity or row.identity
    row.display_name = info.name or row.display_name or ""
    # joined_at travels in every participant event, identical each time.
    joined = _from_millis(info.joined_at_ms) or from_epoch(info.joined_at)
    if joined is not None:
        row.joined_at = joined
    elif row.joined_at is None and event.event == "participant_joined":
        row.joined_at = _event_time(event)
    if event.event in ("participant_left", "participant_connection_aborted"):
        row.left_at = _event_time(event)
    if event.event == "participant_connection_aborted":
        row.aborted = True  # signalled, never connected media: not attendance
    close_interval(row)
    if session is not None:
        db.session.flush()
        recount(session)
    if event.event == "participant_joined":
        _turn_away_if_removed(room, info.identity)
    return ProcessingResult.APPLIED


def _turn_away_if_removed(room: RoomRef | None, identity: str) -> None:
    """A person the host removed cannot get a new token, but could come back with the one
    they had until it expires: the server tells us they joined, and we remove them again."""
    if room is None or room.meeting_id is None or not identity:
        return
    meeting = db.session.get(Meeting, room.meeting_id)
    if meeting is None or not host_decisions.is_removed(meeting, room.occurrence_key, identity):
        return
    after_commit(lambda: _remove_quietly(room.name, identity))


def _remove_quietly(room_name: str, identity: str) -> None:
    try:
        gateway.remove_participant(room_name, identity)
    except (gateway.RoomNotFound, gateway.LiveKitUnavailable) as error:
        log.warning("could not remove %s again from %s: %s", identity, room_name, error)
    else:
        log.warning(
            "removed %s again from %s: they came back with an old token", identity, room_name
        )


def close_interval(row: Attendance) -> None:
    if row.joined_at is None or row.left_at is None:
        return
    # The leave time has whole-second resolution, the join time milliseconds: a leave in
    # the same second as the join can read as earlier.
    row.left_at = max(row.left_at, row.joined_at)
    row.seconds = round((row.left_at - row.joined_at).total_seconds())


def recount(session: MeetingSession) -> None:
    """Peak, total and person-seconds of a session, from all of its intervals."""
    rows = db.session.execute(
        sa.select(Attendance.identity, Attendance.joined_at, Attendance.left_at).where(
            Attendance.session_id == session.id, Attendance.aborted.is_(False)
        )
    ).all()
    marks = []
    seconds = 0
    for identity, joined, left in rows:
        if joined is None:
            continue
        end = left or session.ended_at
        marks.append((joined, 1, identity))
        if end is not None:
            end = max(end, joined)
            marks.append((end, -1, identity))
            seconds += round((end - joined).total_seconds())
    session.total_participants = len({identity for identity, *_ in rows})
    session.participant_seconds = seconds
    session.peak_participants = peak_of(marks)


def peak_of(marks: list[tuple[datetime, int, str]]) -> int:
    """Most people in the room at once. Leaves sort before joins at the same instant, and a
    person connected twice (a reconnect overlapping the old connection) counts once."""
    connections: dict[str, int] = {}
    present = peak = 0
    for _at, change, identity in sorted(marks, key=lambda mark: (mark[0], mark[1])):
        before = connections.get(identity, 0)
        connections[identity] = before + change
        if before == 0 and change > 0:
            present += 1
        elif before == 1 and change < 0:
            present -= 1
        peak = max(peak, present)
    return peak


# ---- tracks ---------------------------------------------------------------------------------


def _track(event: gateway.WebhookEvent, room: RoomRef | None) -> ProcessingResult:
    track = event.track
    if not track.sid:
        return ProcessingResult.IGNORED
    session = _session(event, room)
    row = db.session.scalar(
        sa.select(TrackPublication).where(TrackPublication.track_sid == track.sid)
    )
    if row is None:
        row = TrackPublication(track_sid=track.sid)
        db.session.add(row)
    if session is not None:
        row.session_id = session.id
    row.participant_sid = event.participant.sid or row.participant_sid or ""
    row.identity = event.participant.identity or row.identity or ""
    row.kind, row.source = gateway.track_kind_and_source(track)
    if event.event == "track_published":
        row.published_at = _event_time(event)
    else:
        row.unpublished_at = _event_time(event)
    return ProcessingResult.APPLIED


# ---- egress and ingress ---------------------------------------------------------------------


def _egress(event: gateway.WebhookEvent, room: RoomRef | None) -> ProcessingResult:
    """egress_started / egress_updated / egress_ended, keyed by egress id, in no order with
    the room's events. Recordings (issue 8) derive from them here; until then the ledger
    only keeps them."""
    return ProcessingResult.IGNORED


def _keep_only(event: gateway.WebhookEvent, room: RoomRef | None) -> ProcessingResult:
    return ProcessingResult.IGNORED


Handler = Callable[[gateway.WebhookEvent, RoomRef | None], ProcessingResult]
HANDLERS: dict[str, Handler] = {
    "room_started": _room_started,
    "room_finished": _room_finished,
    "participant_joined": _participant,
    "participant_left": _participant,
    "participant_connection_aborted": _participant,
    "track_published": _track,
    "track_unpublished": _track,
    "egress_started": _egress,
    "egress_updated": _egress,
    "egress_ended": _egress,
    "ingress_started": _keep_only,
    "ingress_ended": _keep_only,
}
# Any other name is refused at the door (400) and never stored.
KNOWN_EVENTS = frozenset(HANDLERS)
# The media worker's kinds this app reads (others are stored all the same).
WORKER_KINDS = tuple(
    dict.fromkeys(
        worker_events.RECORDING_KINDS
        + captions_events.CAPTIONS_KINDS
        + stream_events.INGEST_KINDS
        + stream_events.STREAM_KINDS
    )
)
# What the ledger can hold, for the ops page's filter.
LEDGER_KINDS = KNOWN_EVENTS | {WORKER_EVENT_PREFIX + kind for kind in WORKER_KINDS}
