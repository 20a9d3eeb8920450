"""The state of live captions in one occurrence, as the API and the room page show it, and
the one way it changes (`set_status`, which also tells the room)."""

import sqlalchemy as sa
from flask import url_for

from meetings.captions import notices
from meetings.extensions import db
from meetings.models import CaptionsStatus, Meeting, Transcript
from meetings.scheduling.recurrence import Occurrence
from meetings.scheduling.window import Phase, window

# Why captions are off, failed or unavailable (Transcript.reason), in words a host can read.
OFF_BY_HOST = "A host turned captions off."
ROOM_CLOSED = "The meeting's room closed."
NO_CAPTIONER = "No captioner is running: no media worker serving captions has reported in."
NOT_TAKEN = "No media worker took the captions job in time."
LOST_TWICE = "The captioner left the meeting twice; captions stopped."
MAX_REASON = 500


def transcript_of(room_name: str) -> Transcript | None:
    return db.session.scalar(sa.select(Transcript).where(Transcript.room_name == room_name))


def set_status(row: Transcript, status: CaptionsStatus, reason: str | None = None) -> None:
    """Change the row's status; the room's metadata follows once this is committed."""
    changed = row.status != status
    row.status = status
    row.reason = reason[:MAX_REASON] if reason else None
    if changed:
        notices.announce_after_commit(row.room_name, status)


def captions_json(row: Transcript | None) -> dict:
    """What the API answers: `{"status", "enabled", "reason"}` ("off" when never started)."""
    status = row.status if row is not None else CaptionsStatus.OFF
    return {
        "status": status.value,
        "enabled": status.is_on,
        "reason": (row.reason or "") if row is not None else "",
    }


def captions_state(meeting: Meeting, occurrence: Occurrence | None = None) -> dict:
    """What the room page needs to draw captions before the room's metadata arrives: the
    API's state, whether the meeting starts them by itself, and where hosts turn them on
    or off. `occurrence` defaults to the one open now. Also a template global (where a
    template's undefined name is falsy, and means the same)."""
    if not occurrence:
        schedule = window(meeting, early_access=True)
        occurrence = schedule.occurrence if schedule.phase == Phase.OPEN else None
    row = transcript_of(occurrence.room_name) if occurrence is not None else None
    return captions_json(row) | {
        "automatic": meeting.captions,
        "url": url_for("api.set_captions", slug=meeting.slug),
    }
