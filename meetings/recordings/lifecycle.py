"""Recording: start and stop egress jobs, follow them through webhooks, share and delete them.

A Recording row is written before LiveKit is asked (`requested`), so a failed start is kept
with the server's reason for ops to see. From then on the server's reports move the row
forward only: requested -> starting -> active -> ending -> complete | failed | aborted |
limit_reached. A report older than what the row shows (a late `egress_updated` after
`egress_ended`) changes nothing, and so does a repeated one.

Everyone in the room learns about a running recording from the room's metadata
(`{"recording": true, "recording_id": ...}`), which late joiners receive on connect.
"""

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from meetings import livekit_gateway as gateway
from meetings.errors import ApiError
from meetings.extensions import db
from meetings.models import (
    RUNNING_STATUSES,
    Meeting,
    RecorderKind,
    Recording,
    RecordingLayout,
    RecordingStatus,
    User,
    utcnow,
)
from meetings.recordings import builtin, egress_events, explain, notices, storage
from meetings.scheduling.encryption import refuse_server_media
from meetings.scheduling.recurrence import Occurrence
from meetings.scheduling.window import Phase, window

log = logging.getLogger(__name__)


NOT_AVAILABLE = "Recording is not available right now."


PRESETS = (
    "H264_720P_30",
    "H264_720P_60",
    "H264_1080P_30",
    "H264_1080P_60",
    "PORTRAIT_H264_720P_30",
    "PORTRAIT_H264_720P_60",
    "PORTRAIT_H264_1080P_30",
    "PORTRAIT_H264_1080P_60",
)


# A start request that never got an answer (the app died mid-call) is settled by reconcile.
STALE_REQUEST = timedelta(minutes=2)


class RecordingRefused(ApiError):
    """The request is not carried out; the message is for people."""


class AlreadyRecording(RecordingRefused):
    """A recording of this room is running; `recording` is that one."""

    def __init__(self, recording: Recording):
        super().__init__(409, "already_recording", "This meeting is being recorded already.")
        self.recording = recording


def running_in(room_name: str) -> Recording | None:
    """The recording of this room that is requested, starting or active, if any."""
    query = (
        sa.select(Recording)
        .where(Recording.room_name == room_name, Recording.status.in_(RUNNING_STATUSES))
        .order_by(Recording.requested_at.desc())
    )
    return db.session.scalars(query).first()


def current_occurrence(meeting: Meeting) -> Occurrence:
    """Raises: RecordingRefused 409 `not_running` when no occurrence is open now."""
    schedule = window(meeting, early_access=True)
    if schedule.phase != Phase.OPEN:
        raise RecordingRefused(409, "not_running", "This meeting is not running now.")
    return schedule.occurrence


def start(
    meeting: Meeting,
    user: User | None,
    layout: RecordingLayout = RecordingLayout.GRID,
    audio_only: bool = False,
    preset: str | None = None,
    *,
    auto: bool = False,
) -> Recording:
    """Record the meeting's running occurrence (RoomCompositeEgress into one file).

    Takes as long as the server takes to answer (bounded by EGRESS_TIMEOUT_SECONDS).

    Raises:
        RecordingRefused: 403 not a host / recording not allowed, 409 not running or
            `e2ee_meeting` (end-to-end encrypted),
            503 when the server refused (the row is kept as `failed` with its reason).
        AlreadyRecording: 409, a recording of this room is running.
    """
    if not auto and (user is None or not meeting.is_managed_by(user)):
        raise RecordingRefused(403, "forbidden", "Only the meeting's hosts may record it.")
    return launch(request(meeting, user, layout, audio_only, preset, auto=auto))


def request(
    meeting: Meeting,
    user: User | None,
    layout: RecordingLayout = RecordingLayout.GRID,
    audio_only: bool = False,
    preset: str | None = None,
    *,
    auto: bool = False,
) -> Recording:
    """Check that the meeting may be recorded now and put the attempt on record (`requested`).

    Raises: RecordingRefused (403, 409, 422) and AlreadyRecording (409), as `start`.
    """
    refuse_server_media(meeting, "record it", RecordingRefused)
    if not meeting.recording_allowed:
        message = "Recording is turned off for this meeting. A host can allow it in its settings."
        raise RecordingRefused(403, "recording_not_allowed", message)
    preset = preset or current_app.config["RECORDING_PRESET"]
    if preset not in PRESETS:
        raise RecordingRefused(422, "invalid_field", f"Unknown preset {preset!r}.", "preset")
    occurrence = current_occurrence(meeting)
    running = running_in(occurrence.room_name)
    if running is not None:
        raise AlreadyRecording(running)
    now = utcnow()
    recorder = RecorderKind(current_app.config["RECORDER"])
    row = Recording(
        meeting=meeting,
        occurrence_key=occurrence.key,
        room_name=occurrence.room_name,
        status=RecordingStatus.REQUESTED,
        layout=layout,
        audio_only=audio_only,
        preset=preset,
        auto_started=auto,
        recorder=recorder,
        job_id=builtin.new_job_id() if recorder == RecorderKind.BUILTIN else None,
        storage=storage.configured().kind,
        file_name=storage.new_file_name(occurrence.room_name, now, audio_only, recorder),
        requested_by=user,
        requested_at=now,
        server_updated_ns=0,
    )
    db.session.add(row)
    db.session.commit()  # the attempt is on record before LiveKit is asked
    return row


def launch(row: Recording) -> Recording:
    """Ask the server to run the requested recording.

    Raises: RecordingRefused 503 when it refused (the row is then `failed` with its reason).
    """
    if row.recorder == RecorderKind.BUILTIN:
        return _launch_builtin(row)
    target = storage.of(row).target(row.file_name, row.audio_only)
    try:
        egress = gateway.start_room_composite_egress(
            row.room_name, layout=row.layout.value, preset=row.preset, target=target
        )
    except gateway.LiveKitError as error:
        reason = str(error) or type(error).__name__
        _start_failed(row, reason)
        # The host in the room reads this: what happened and what to do, not the reason.
        message = explain.could_not_start(reason)
        raise RecordingRefused(503, "recording_unavailable", message) from error
    row = _attach(row, egress)
    _snapshot_participants(row)
    db.session.commit()
    notices.announce(row.room_name)
    return row


def _launch_builtin(row: Recording) -> Recording:
    try:
        row = builtin.launch(row)
    except builtin.NotStarted as refused:
        raise RecordingRefused(503, "recording_unavailable", str(refused)) from refused
    except gateway.LiveKitError as error:
        reason = str(error) or type(error).__name__
        _start_failed(row, reason)
        raise RecordingRefused(
            503, "recording_unavailable", explain.could_not_start(reason)
        ) from error
    _snapshot_participants(row)
    db.session.commit()
    notices.announce(row.room_name)
    return row


def _start_failed(row: Recording, reason: str) -> None:
    db.session.refresh(row)
    if not row.accepted:  # no webhook reported the job after all
        row.status = RecordingStatus.FAILED
        row.error = reason[:1000]
        row.ended_at = utcnow()
        db.session.commit()
    log.warning("recording %s of %s could not start: %s", row.id, row.room_name, reason)


def _attach(row: Recording, egress: gateway.Egress) -> Recording:
    """Give our row its egress id; a webhook about the job may have arrived first."""
    db.session.refresh(row)
    existing = egress_events.by_egress_id(egress.egress_id)
    if existing is not None and existing.id != row.id:
        # The webhook made its own row: keep that one, with what only we know.
        existing.requested_by = row.requested_by
        existing.requested_at = row.requested_at
        existing.auto_started = row.auto_started
        existing.preset = row.preset
        db.session.delete(row)
        row = existing
    row.egress_id = egress.egress_id
    egress_events.apply_report(row, egress)
    return row


def _snapshot_participants(row: Recording) -> None:
    try:
        present = gateway.list_participants(row.room_name)
    except gateway.LiveKitError as error:
        log.warning("no participant list for recording %s: %s", row.id, error)
        return
    for participant in present:
        if participant.is_worker:
            continue  # the recorder itself, captions: not people who were recorded
        egress_events.note_participant(row, participant.identity, participant.name)


def stop(recording: Recording, user: User | None) -> Recording:
    """Ask the server to finish the recording; the file follows through webhooks.

    Raises:
        RecordingRefused: 403 not a host, 409 not running, 503 the server did not answer.
    """
    if user is None or not recording.meeting.is_managed_by(user):
        raise RecordingRefused(403, "forbidden", "Only the meeting's hosts may stop recordings.")
    if recording.status not in RUNNING_STATUSES:
        message = f"This recording is not running (it is {recording.status.value})."
        raise RecordingRefused(409, "not_recording", message)
    if not recording.accepted:
        # The server never accepted it: nothing to stop there.
        recording.status = RecordingStatus.ABORTED
        recording.error = explain.STOPPED_BEFORE_ACCEPTED
        recording.ended_at = utcnow()
        db.session.commit()
        return recording
    try:
        if recording.recorder == RecorderKind.BUILTIN:
            builtin.stop(recording)  # the worker's recording_ended follows
        else:
            egress = gateway.stop_egress(recording.egress_id)
            egress_events.apply_report(recording, egress)
    except gateway.LiveKitError as error:
        log.warning("stopping recording %s failed: %s", recording.id, error)
        raise RecordingRefused(503, "recording_unavailable", NOT_AVAILABLE) from error
    if recording.status.rank < RecordingStatus.ENDING.rank:
        recording.status = RecordingStatus.ENDING
    db.session.commit()
    notices.announce(recording.room_name)
    return recording
