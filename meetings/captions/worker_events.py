"""What the captioner reports (signed worker events) and what LiveKit says about it.

- `caption_segment`: one final caption, stored once per segment id (a retried event is a
  no-op), as plain text, capped. A segment is kept when its job is the transcript's current
  one, or an earlier captioner of the same room (one the server saw there: its participant
  events are in the ledger), so what a lost captioner said last is not lost. The segment of
  an unknown room or job stays in the ledger only.
- `captions_status`: running / unavailable (the speech-to-text backend fails or is slow),
  with the reason; only for the current job while captions are on.
- `job_rejected` of `meetings-captions`: the worker refused the job -> failed.
- The captioner's participant leaving while captions are on (LiveKit's participant_left):
  lost. It is dispatched again once per start (`redispatched`); lost again -> failed. When
  nobody is left in the room, it left with everyone: captions are off (ROOM_CLOSED), and so
  they are when the room finishes.

Nothing here commits: the ledger's transaction does. LiveKit is asked only after that commit.
"""

import logging
import re

import sqlalchemy as sa

from meetings import livekit_gateway as gateway
from meetings.after_commit import after_commit
from meetings.captions import dispatch
from meetings.captions.state import LOST_TWICE, ROOM_CLOSED, set_status
from meetings.extensions import db
from meetings.models import (
    Attendance,
    CaptionsStatus,
    Transcript,
    TranscriptSegment,
    WebhookEvent,
)

log = logging.getLogger(__name__)

CAPTIONS_KINDS = ("caption_segment", "captions_status", "job_rejected")
REPORTED = {"running": CaptionsStatus.RUNNING, "unavailable": CaptionsStatus.UNAVAILABLE}
MAX_TEXT = 2000
MAX_NAME = 255
MAX_SEGMENT_ID = 64
# Control characters: a caption is one line of plain text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def apply_worker_event(event: gateway.WorkerEvent) -> bool:
    """Follow one event of the captioner; True when a transcript changed. Does not commit."""
    if event.kind == "caption_segment":
        return _segment(event)
    if event.kind == "captions_status":
        return _status(event)
    if event.kind == "job_rejected" and event.data.get("agent_name") == dispatch.AGENT_NAME:
        return _rejected(event)
    return False


def by_job_id(job_id: str) -> Transcript | None:
    if not job_id:
        return None
    return db.session.scalar(sa.select(Transcript).where(Transcript.job_id == job_id))


def _current_job(event: gateway.WorkerEvent) -> Transcript | None:
    row = by_job_id(event.job_id)
    if row is None or (event.room and event.room != row.room_name):
        log.info("worker event %s (%s) is for no captions of ours", event.id, event.kind)
        return None
    return row


def _transcript_of_segment(event: gateway.WorkerEvent) -> Transcript | None:
    """The current job's transcript, or that of the room an earlier job captioned."""
    row = by_job_id(event.job_id)
    if row is not None:
        return row if event.room in ("", row.room_name) else None
    if not event.room or not event.job_id.startswith(dispatch.JOB_PREFIX):
        return None
    row = db.session.scalar(sa.select(Transcript).where(Transcript.room_name == event.room))
    identity = dispatch.IDENTITY_PREFIX + event.job_id
    seen_there = db.session.scalar(
        sa.select(WebhookEvent.id)
        .where(WebhookEvent.room_name == event.room, WebhookEvent.participant_identity == identity)
        .limit(1)
    )
    return row if seen_there is not None else None


def _segment(event: gateway.WorkerEvent) -> bool:
    row = _transcript_of_segment(event)
    if row is None:
        log.info("caption segment %s is for no captions of ours", event.id)
        return False
    data = event.data
    segment_id = _line(data.get("segment_id"), MAX_SEGMENT_ID)
    start, end = _seconds(data.get("start")), _seconds(data.get("end"))
    text = _line(data.get("text"), MAX_TEXT)
    if not segment_id or start is None or end is None or not text:
        log.info("caption segment %s is incomplete; ignored", event.id)
        return False
    known = db.session.scalar(
        sa.select(TranscriptSegment.id).where(
            TranscriptSegment.transcript_id == row.id, TranscriptSegment.segment_id == segment_id
        )
    )
    if known is not None:
        return False  # a retry, or the same segment again
    identity = _line(data.get("identity"), MAX_NAME)
    db.session.add(
        TranscriptSegment(
            transcript_id=row.id,
            segment_id=segment_id,
            identity=identity,
            display_name=_line(data.get("display_name"), MAX_NAME) or identity,
            start=start,
            end=max(start, end),
            text=text,
        )
    )
    db.session.flush()
    return True


def _status(event: gateway.WorkerEvent) -> bool:
    row = _current_job(event)
    reported = REPORTED.get(event.data.get("status"))
    if row is None or reported is None or not row.status.is_on:
        return False  # off or failed: a late report does not turn captions back on
    reason = _line(event.data.get("reason"), 500) if reported == CaptionsStatus.UNAVAILABLE else ""
    if row.status == reported and (row.reason or "") == reason:
        return False
    set_status(row, reported, reason)
    db.session.flush()
    return True


def _rejected(event: gateway.WorkerEvent) -> bool:
    row = _current_job(event)
    if row is None or not row.status.is_on:
        return False
    reason = _line(event.data.get("reason"), 400) or "no reason given"
    set_status(row, CaptionsStatus.FAILED, f"A media worker refused the captions job: {reason}")
    db.session.flush()
    return True


def captioner_left(identity: str, room_name: str) -> bool:
    """The captioner's participant left the room (its webhook): lost, unless captions were
    turned off or everyone left. Does not commit; True when a transcript changed."""
    if not identity.startswith(dispatch.IDENTITY_PREFIX):
        return False
    row = by_job_id(identity.removeprefix(dispatch.IDENTITY_PREFIX))
    if row is None or row.room_name != room_name or not row.status.is_on:
        return False
    if not _people_in(room_name):
        set_status(row, CaptionsStatus.OFF, ROOM_CLOSED)
    elif row.redispatched:
        set_status(row, CaptionsStatus.FAILED, LOST_TWICE)
    else:
        _dispatch_again(row)
    db.session.flush()
    return True


def room_closed(room_name: str) -> bool:
    """The room finished: captions in it are off until a host starts them again (or joins a
    meeting set to caption itself). Does not commit."""
    row = db.session.scalar(sa.select(Transcript).where(Transcript.room_name == room_name))
    if row is None or not row.status.is_on:
        return False
    set_status(row, CaptionsStatus.OFF, ROOM_CLOSED)
    db.session.flush()
    return True


def _dispatch_again(row: Transcript) -> None:
    """A new job for the lost one, `starting`; dispatched once the ledger's change is
    committed, in the background (the deriver must not wait for the server)."""
    log.warning("captions of %s: the captioner left; dispatching it again", row.room_name)
    lost_dispatch = row.dispatch_id
    row.job_id = dispatch.new_job_id()
    row.dispatch_id = None
    row.redispatched = True
    set_status(row, CaptionsStatus.STARTING)
    transcript_id, job_id = row.id, row.job_id
    after_commit(
        lambda: dispatch.launch_in_background(transcript_id, job_id, replaces=lost_dispatch)
    )


def _people_in(room_name: str) -> bool:
    """Whether anyone (not a worker: they are never attendance) is connected, as the ledger
    knows it: LiveKit sends a room's participant events in order, so a room that empties
    has told us of everyone's leaving before its captioner's."""
    present = db.session.scalar(
        sa.select(Attendance.id)
        .where(
            Attendance.room_name == room_name,
            Attendance.left_at.is_(None),
            Attendance.aborted.is_(False),
        )
        .limit(1)
    )
    return present is not None


def _line(value, limit: int) -> str:
    """Plain text on one line, capped: never markup, never control characters."""
    if not isinstance(value, str):
        return ""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


def _seconds(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != value or value < 0 or value > 7 * 24 * 3600:  # NaN, or beyond any meeting
        return None
    return round(float(value), 2)
