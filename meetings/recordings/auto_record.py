"""Meetings set to record themselves start recording when a host joins (once per occurrence)."""

import logging
import threading

import sqlalchemy as sa
from flask import current_app

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
    app = current_app._get_current_object()  # the thread needs the app, not the proxy
    thread = threading.Thread(
        target=_launch_in_background, args=(app, row.id), name=f"auto-record-{row.id}"
    )
    thread.daemon = True
    with _background_lock:
        _background.append(thread)
    thread.start()
    return thread


_background: list[threading.Thread] = []


_background_lock = threading.Lock()


def _launch_in_background(app, recording_id: int) -> None:
    with app.app_context():
        try:
            row = db.session.get(Recording, recording_id)
            if row is not None:
                launch(row)
        except RecordingRefused:
            pass  # the row says `failed` with the server's reason, and the log has it
        except Exception:
            log.exception("auto-recording %s failed", recording_id)
        finally:
            db.session.remove()


def wait_for_background_starts(timeout: float = 60) -> None:
    """Wait until automatic starts have their answer (tests, and a clean shutdown)."""
    with _background_lock:
        threads, _background[:] = list(_background), []
    for thread in threads:
        thread.join(timeout)


@room_signals.host_joining.connect
def _on_host_joining(meeting: Meeting, occurrence: Occurrence, **_extra) -> None:
    auto_record(meeting, occurrence)
