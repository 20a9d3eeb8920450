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
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from meetings import livekit_gateway as gateway
from meetings.errors import ApiError
from meetings.extensions import db
from meetings.models import (
    Meeting,
    Recording,
    RecordingLayout,
    RecordingParticipant,
    RecordingStatus,
    User,
    utcnow,
)
from meetings.recordings import storage
from meetings.scheduling import recurrence as rec
from meetings.scheduling.recurrence import Occurrence
from meetings.scheduling.services import may_manage

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
RUNNING = (RecordingStatus.REQUESTED, RecordingStatus.STARTING, RecordingStatus.ACTIVE)
# A start request that never got an answer (the app died mid-call) is settled by reconcile.
STALE_REQUEST = timedelta(minutes=2)
ROOM_NAME = re.compile(r"^meeting-(?P<slug>[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})-(?P<at>\d{12})$")


class RecordingRefused(ApiError):
    """The request is not carried out; the message is for people."""


class AlreadyRecording(RecordingRefused):
    """A recording of this room is running; `recording` is that one."""

    def __init__(self, recording: Recording):
        super().__init__(409, "already_recording", "This meeting is being recorded already.")
        self.recording = recording


# ---- start and stop -----------------------------------------------------------------------


def running_in(room_name: str) -> Recording | None:
    """The recording of this room that is requested, starting or active, if any."""
    query = (
        sa.select(Recording)
        .where(Recording.room_name == room_name, Recording.status.in_(RUNNING))
        .order_by(Recording.requested_at.desc())
    )
    return db.session.scalars(query).first()


def current_occurrence(meeting: Meeting) -> Occurrence:
    """Raises: RecordingRefused 409 `not_running` when no occurrence is open now."""
    from meetings.rooms import services as rooms  # rooms imports us for auto-recording

    window = rooms.window(meeting, early_access=True)
    if window.phase != rooms.Phase.OPEN:
        raise RecordingRefused(409, "not_running", "This meeting is not running now.")
    return window.occurrence


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
        RecordingRefused: 403 not a host / recording not allowed, 409 not running,
            503 when the server refused (the row is kept as `failed` with its reason).
        AlreadyRecording: 409, a recording of this room is running.
    """
    if not auto and (user is None or not may_manage(user, meeting)):
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
    row = Recording(
        meeting=meeting,
        occurrence_key=occurrence.key,
        room_name=occurrence.room_name,
        status=RecordingStatus.REQUESTED,
        layout=layout,
        audio_only=audio_only,
        preset=preset,
        auto_started=auto,
        storage=storage.configured().kind,
        file_name=storage.new_file_name(occurrence.room_name, now, audio_only),
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
    target = storage.of(row).target(row.file_name, row.audio_only)
    try:
        egress = gateway.start_room_composite_egress(
            row.room_name, layout=row.layout.value, preset=row.preset, target=target
        )
    except gateway.LiveKitError as error:
        _start_failed(row, str(error) or type(error).__name__)
        raise RecordingRefused(503, "recording_unavailable", NOT_AVAILABLE) from error
    row = _attach(row, egress)
    _snapshot_participants(row)
    db.session.commit()
    _announce(row.room_name)
    return row


def _start_failed(row: Recording, reason: str) -> None:
    db.session.refresh(row)
    if row.egress_id is None:  # no webhook reported the job after all
        row.status = RecordingStatus.FAILED
        row.error = reason[:1000]
        row.ended_at = utcnow()
        db.session.commit()
    log.warning("recording %s of %s could not start: %s", row.id, row.room_name, reason)


def _attach(row: Recording, egress: gateway.Egress) -> Recording:
    """Give our row its egress id; a webhook about the job may have arrived first."""
    db.session.refresh(row)
    existing = _by_egress_id(egress.egress_id)
    if existing is not None and existing.id != row.id:
        # The webhook made its own row: keep that one, with what only we know.
        existing.requested_by = row.requested_by
        existing.requested_at = row.requested_at
        existing.auto_started = row.auto_started
        existing.preset = row.preset
        db.session.delete(row)
        row = existing
    row.egress_id = egress.egress_id
    _apply(row, egress)
    return row


def _snapshot_participants(row: Recording) -> None:
    try:
        present = gateway.list_participants(row.room_name)
    except gateway.LiveKitError as error:
        log.warning("no participant list for recording %s: %s", row.id, error)
        return
    for participant in present:
        _note_participant(row, participant.identity, participant.name)


def stop(recording: Recording, user: User | None) -> Recording:
    """Ask the server to finish the recording; the file follows through webhooks.

    Raises:
        RecordingRefused: 403 not a host, 409 not running, 503 the server did not answer.
    """
    if user is None or not may_manage(user, recording.meeting):
        raise RecordingRefused(403, "forbidden", "Only the meeting's hosts may stop recordings.")
    if recording.status not in RUNNING:
        message = f"This recording is not running (it is {recording.status.value})."
        raise RecordingRefused(409, "not_recording", message)
    if recording.egress_id is None:
        # The server never accepted it: nothing to stop there.
        recording.status = RecordingStatus.ABORTED
        recording.error = "Stopped before the server accepted the recording."
        recording.ended_at = utcnow()
        db.session.commit()
        return recording
    try:
        egress = gateway.stop_egress(recording.egress_id)
    except gateway.LiveKitError as error:
        log.warning("stopping recording %s failed: %s", recording.id, error)
        raise RecordingRefused(503, "recording_unavailable", NOT_AVAILABLE) from error
    _apply(recording, egress)
    if recording.status.rank < RecordingStatus.ENDING.rank:
        recording.status = RecordingStatus.ENDING
    db.session.commit()
    _announce(recording.room_name)
    return recording


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


# ---- what the server reports: webhooks and reconcile --------------------------------------

FROM_SERVER = {status.value: status for status in RecordingStatus}


def apply_egress_event(event) -> Recording | None:
    """Follow an `egress_started` / `egress_updated` / `egress_ended` webhook.

    Idempotent and order-tolerant; does not commit (the webhook's transaction does).
    Returns the row it touched, if any.
    """
    egress = gateway.egress_from_webhook(event)
    if egress is None:
        return None
    row = _row_for(egress)
    if row is None:
        return None
    if _apply(row, egress):
        db.session.flush()
        _announce_after_commit(row.room_name)
    return row


def on_participant_joined(event) -> bool:
    """Keep who joined while a recording of the room runs; True when one did."""
    if event.event != "participant_joined":
        return False
    rows = db.session.scalars(
        sa.select(Recording).where(
            Recording.room_name == event.room.name,
            Recording.status.in_((RecordingStatus.STARTING, RecordingStatus.ACTIVE)),
        )
    ).all()
    for row in rows:
        _note_participant(row, event.participant.identity, event.participant.name)
    return bool(rows)


def on_room_finished(event) -> bool:
    """The room closed: stop its recordings (the server ends them too; we do not wait)."""
    if event.event != "room_finished":
        return False
    rows = db.session.scalars(
        sa.select(Recording).where(
            Recording.room_name == event.room.name, Recording.status.in_(RUNNING)
        )
    ).all()
    for row in rows:
        if row.egress_id is None:
            continue  # a start in flight settles itself; reconcile catches a lost one
        row.status = RecordingStatus.ENDING
        after_commit(lambda egress_id=row.egress_id: _stop_quietly(egress_id))
    return bool(rows)


def _stop_quietly(egress_id: str) -> None:
    try:
        gateway.stop_egress(egress_id)
    except gateway.LiveKitError as error:
        log.info("stopping egress %s after its room finished: %s", egress_id, error)


def apply_webhook(event) -> bool:
    """Everything recordings take from one webhook (the ledger calls this for each event);
    True when a recording changed. Does not commit."""
    if event.event.startswith("egress_"):
        return apply_egress_event(event) is not None
    if event.event == "participant_joined":
        return on_participant_joined(event)
    if event.event == "room_finished":
        return on_room_finished(event)
    return False


def _by_egress_id(egress_id: str) -> Recording | None:
    return db.session.scalar(sa.select(Recording).where(Recording.egress_id == egress_id))


def _row_for(egress: gateway.Egress) -> Recording | None:
    row = _by_egress_id(egress.egress_id)
    if row is not None:
        return row
    # Our start call may still be waiting for its answer: the job is that request's.
    pending = db.session.scalars(
        sa.select(Recording)
        .where(
            Recording.room_name == egress.room_name,
            Recording.egress_id.is_(None),
            Recording.status == RecordingStatus.REQUESTED,
        )
        .order_by(Recording.requested_at.desc())
    ).first()
    if pending is not None:
        pending.egress_id = egress.egress_id
        return pending
    # Started elsewhere (e.g. the LiveKit CLI) in one of our rooms: keep it all the same.
    found = _meeting_for_room(egress.room_name)
    if found is None:
        log.info("egress %s is for room %s, which is not ours", egress.egress_id, egress.room_name)
        return None
    meeting, occurrence_key = found
    audio_only = egress.audio_only
    row = Recording(
        meeting=meeting,
        occurrence_key=occurrence_key,
        room_name=egress.room_name,
        egress_id=egress.egress_id,
        status=RecordingStatus.REQUESTED,
        layout=RecordingLayout.SPEAKER if egress.layout == "speaker" else RecordingLayout.GRID,
        audio_only=audio_only,
        storage=storage.configured().kind,
        file_name="",
    )
    db.session.add(row)
    return row


def _meeting_for_room(room_name: str) -> tuple[Meeting, str] | None:
    match = ROOM_NAME.match(room_name)
    if match is None:
        return None
    meeting = db.session.scalar(sa.select(Meeting).where(Meeting.slug == match["slug"]))
    if meeting is None:
        return None
    starts_at = datetime.strptime(match["at"], "%Y%m%d%H%M").replace(tzinfo=UTC)
    return meeting, starts_at.strftime(rec.KEY_FORMAT)


def _apply(row: Recording, egress: gateway.Egress) -> bool:
    """Move the row forward to what the server reports; False when the report is stale."""
    if row.status.is_final:
        return False  # settled: repeats and late reports change nothing
    reported = FROM_SERVER.get(egress.status)
    if reported is None or reported.rank < row.status.rank:
        return False
    seen_ns = row.server_updated_ns or 0
    if reported == row.status and egress.updated_ns < seen_ns:
        return False
    row.status = reported
    row.server_updated_ns = max(seen_ns, egress.updated_ns)
    row.started_at = egress.started_at or row.started_at
    row.ended_at = egress.ended_at or row.ended_at
    if egress.error:
        row.error = egress.error[:1000]
    if egress.files:
        _take_file(row, egress.files[0])
    if row.status.is_final and row.ended_at is None:
        row.ended_at = utcnow()
    return True


def _take_file(row: Recording, file: gateway.EgressFile) -> None:
    try:
        name = storage.of(row).accept(file.filename)
    except storage.UnsafeFileName as refused:
        # Never serve or delete a path the server handed us from outside our storage.
        row.flag = f"Refused file name from the server: {file.filename!r}"[:500]
        log.warning("recording %s: %s", row.id, refused)
        if row.status == RecordingStatus.COMPLETE:
            row.status = RecordingStatus.FAILED
            row.error = "The server reported a file outside the recordings storage; refused."
        return
    row.file_name = name
    row.location = file.location[:1024]
    row.size_bytes = file.size or row.size_bytes
    row.duration_seconds = file.duration_seconds or row.duration_seconds


def _note_participant(row: Recording, identity: str, name: str) -> None:
    known = {p.identity for p in row.participants}
    if identity and identity not in known:
        row.participants.append(RecordingParticipant(identity=identity, display_name=name[:128]))


def _notice(room_name: str) -> dict:
    """What the room's metadata should say about recording now."""
    live = db.session.scalars(
        sa.select(Recording)
        .where(
            Recording.room_name == room_name,
            Recording.status.in_((RecordingStatus.STARTING, RecordingStatus.ACTIVE)),
        )
        .order_by(Recording.requested_at.desc())
    ).first()
    return {"recording": live is not None, "recording_id": live.id if live else None}


def _send_notice(room_name: str, changes: dict) -> None:
    try:
        gateway.update_room_metadata(room_name, changes)
    except gateway.RoomNotFound:
        pass  # the room is gone, and with it everyone who could see the notice
    except gateway.LiveKitError as error:
        log.warning("recording notice for %s not updated: %s", room_name, error)


def _announce(room_name: str) -> None:
    """Tell everyone in the room (and whoever joins later) whether it is being recorded."""
    _send_notice(room_name, _notice(room_name))


def _announce_after_commit(room_name: str) -> None:
    changes = _notice(room_name)  # the flushed, not yet committed, state
    after_commit(lambda: _send_notice(room_name, changes))


# LiveKit calls that follow from a webhook wait until its transaction is committed: they
# must not hold the database (SQLite's one writer) while the server answers, and must not
# happen at all when the transaction is rolled back.
AFTER_COMMIT = "recordings.after_commit"


def after_commit(action) -> None:
    db.session.info.setdefault(AFTER_COMMIT, []).append(action)


def _run_after_commit(session) -> None:
    for action in session.info.pop(AFTER_COMMIT, []):
        try:
            action()
        except Exception:  # the commit happened; a failed notice must not undo the answer
            log.exception("recording follow-up after commit failed")


def _forget_after_rollback(session, *_args) -> None:
    session.info.pop(AFTER_COMMIT, None)


def install_session_hooks() -> None:
    """Run queued LiveKit calls after commit; drop them on rollback (once per process)."""
    from flask_sqlalchemy.session import Session

    if not sa.event.contains(Session, "after_commit", _run_after_commit):
        sa.event.listen(Session, "after_commit", _run_after_commit)
        sa.event.listen(Session, "after_rollback", _forget_after_rollback)


@dataclass(frozen=True)
class Settled:
    recording: Recording
    before: RecordingStatus
    note: str


def reconcile() -> list[Settled]:
    """Ask the server about rows stuck in starting/active/ending and settle them.

    Raises: gateway.LiveKitUnavailable when the server cannot list egress jobs.
    """
    settled = []
    now = utcnow()
    stuck = db.session.scalars(
        sa.select(Recording)
        .where(
            Recording.status.in_(
                (
                    RecordingStatus.REQUESTED,
                    RecordingStatus.STARTING,
                    RecordingStatus.ACTIVE,
                    RecordingStatus.ENDING,
                )
            )
        )
        .order_by(Recording.id)
    ).all()
    for row in stuck:
        before = row.status
        if row.egress_id is None:
            if now - row.requested_at < STALE_REQUEST:
                continue
            row.status = RecordingStatus.FAILED
            row.error = "The start request never got an answer from the server."
            row.ended_at = now
            settled.append(Settled(row, before, row.error))
            continue
        found = gateway.list_egress(egress_id=row.egress_id)
        if not found:
            row.status = RecordingStatus.FAILED
            row.error = "The server no longer knows this recording."
            row.ended_at = now
            settled.append(Settled(row, before, row.error))
        elif _apply(row, found[0]):
            settled.append(Settled(row, before, f"server says {found[0].status}"))
    db.session.commit()
    for room in {item.recording.room_name for item in settled}:
        _announce(room)
    return settled
