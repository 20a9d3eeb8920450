"""What the captioner and LiveKit send about live captions, built as they build it."""

import sqlalchemy as sa
from livekit.api import ParticipantInfo

from meetings.extensions import db
from meetings.models import Transcript
from tests.support.webhook_factory import participant_event
from tests.support.worker_events import heartbeat, worker_event

AGENT = "meetings-captions"


def captions_worker_online() -> bytes:
    """A media worker serving captions reports in."""
    return heartbeat(AGENT)


def caption(
    job_id: str,
    room: str,
    segment_id: str,
    text: str,
    start: float = 1.0,
    end: float = 2.5,
    *,
    identity: str = "u-ann",
    display_name: str = "Ann",
    event_id: str = "",
) -> bytes:
    """One final caption, as meetings/worker/captioner.py reports it."""
    data = {
        "segment_id": segment_id,
        "identity": identity,
        "display_name": display_name,
        "start": start,
        "end": end,
        "text": text,
    }
    return worker_event("caption_segment", data, job_id=job_id, room=room, event_id=event_id)


def captions_status(job_id: str, room: str, status: str, reason: str = "") -> bytes:
    data = {"status": status, "reason": reason}
    return worker_event("captions_status", data, job_id=job_id, room=room)


def captioner_left(room: str, job_id: str):
    """LiveKit's participant_left for the captioner (an agent, identity captions-<job id>)."""
    event = participant_event("participant_left", room, f"captions-{job_id}", f"PA_{job_id[:8]}")
    event.participant.kind = ParticipantInfo.Kind.AGENT
    return event


def transcript_of(stack, room: str) -> Transcript | None:
    """The live app's transcript of a room, its segments loaded (detached from the session)."""

    def find():
        row = db.session.scalar(sa.select(Transcript).where(Transcript.room_name == room))
        if row is not None:
            row.segments  # noqa: B018 - loaded before the session closes
            db.session.expunge_all()
        return row

    return stack.query(find)
