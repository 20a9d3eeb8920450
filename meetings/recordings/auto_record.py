"""Meetings set to record themselves start recording when a host joins (once per occurrence)."""

import contextlib
import logging
import threading

import sqlalchemy as sa

from meetings.background import run_in_background
from meetings.extensions import db
from meetings.models import Meeting, Recording
from meetings.recordings.lifecycle import RecordingRefused, launch, request, running_in
from meetings.rooms import signals as room_signals
from meetings.scheduling.recurrence import Occurrence

log = logging.getLogger(__name__)


def auto_record(meeting: Meeting, occurrence: Occurrence) -> threading.Thread | None:
    """Start the occurrence's recording when a host joins a meeting set to record itself.

    Once per occurrence: a host rejoining, or a recording that failed or was stopped, does
    not start another. The attempt is on record at once; the server is asked in the
    background, because it may take half a minute to refuse and the host is joining.
    Never raises: joining matters more than recording.
    """
    if not (meeting.auto_record and meeting.recording_allowed):
        return None
    tried = db.session.scalar(
        sa.select(Recording.id).where(
            Recording.room_name == occurrence.room_name, Recording.auto_started.is_(True)
        )
    )
    if tried is not None or running_in(occurrence.room_name) is not None:
        return None
    try:
        row = request(meeting, None, auto=True)
    except RecordingRefused as refusal:
        log.warning("auto-recording %s did not start: %s", occurrence.room_name, refusal.message)
        return None
    return run_in_background(f"auto-record-{row.id}", _launch, row.id)


def _launch(recording_id: int) -> None:
    row = db.session.get(Recording, recording_id)
    if row is None:
        return
    # A refusal leaves the row `failed` with the server's reason, and the log has it.
    with contextlib.suppress(RecordingRefused):
        launch(row)


@room_signals.host_joining.connect
def _on_host_joining(meeting: Meeting, occurrence: Occurrence, **_extra) -> None:
    auto_record(meeting, occurrence)
