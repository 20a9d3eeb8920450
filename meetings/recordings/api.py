"""REST API v1: recordings. Start and stop them, list, read, delete, and fetch the file."""

from typing import Literal

from flask import jsonify, request, url_for
from flask_login import current_user
from pydantic import StrictBool

from meetings.api import bp
from meetings.api.bodies import Body, parse_body, to_iso
from meetings.errors import ApiError
from meetings.extensions import db
from meetings.links import public_url
from meetings.models import Recording, RecordingLayout, RecordingStatus, Role
from meetings.recordings import explain, library, lifecycle, media
from meetings.recordings.filters import filter_from_args
from meetings.web import current_actor, meeting_or_404, require_user

Preset = Literal[lifecycle.PRESETS]


class RecordingStart(Body):
    layout: RecordingLayout = RecordingLayout.GRID
    audio_only: StrictBool = False
    preset: Preset | None = None


def recording_json(recording: Recording) -> dict:
    """What the API says about a recording; storage credentials never appear here.

    `error` is what went wrong in plain words ("" when nothing did), for whoever shows it to
    people; the recording service's own reason is `error_detail`, for operators only.
    """
    manage = library.may_manage_recording(current_user, recording)
    body = {
        "id": recording.id,
        "meeting": recording.meeting.slug,
        "title": recording.meeting.title,
        "occurrence": recording.occurrence_key,
        "status": recording.status.value,
        "layout": recording.layout.value,
        "audio_only": recording.audio_only,
        "auto_started": recording.auto_started,
        "requested_at": to_iso(recording.requested_at),
        "started_at": to_iso(recording.started_at),
        "ended_at": to_iso(recording.ended_at),
        "duration_seconds": recording.duration_seconds,
        "size_bytes": recording.size_bytes,
        "error": explain.failure_message(recording),
        "access": recording.access.value,
        "legal_hold": recording.legal_hold,
        "media_url": url_for("api.recording_media", recording_id=recording.id)
        if recording.has_file
        else None,
        "page_url": public_url("recordings.detail", recording_id=recording.id),
    }
    if getattr(current_user, "role", None) == Role.OPS:
        body["error_detail"] = recording.error
    if manage:
        body |= {
            "egress_id": recording.egress_id,
            "file_name": recording.file_name,
            "storage": recording.storage.value,
            "flag": recording.flag,
            "participants": [
                {"identity": p.identity, "display_name": p.display_name}
                for p in recording.participants
            ],
        }
    return body


def visible_recording(recording_id: str) -> Recording:
    """Raises: ApiError 401 without credentials, 404 for a recording the caller may not see."""
    user = require_user()
    # A plain <recording_id> keeps the URL rule identical to the OpenAPI path.
    known = recording_id.isdigit() and len(recording_id) < 12
    recording = db.session.get(Recording, int(recording_id)) if known else None
    if recording is None or not library.may_watch(user, recording):
        raise ApiError(404, "recording_not_found", "No recording of yours has this id.")
    return recording


@bp.post("/meetings/<slug>/recordings")
def start_recording(slug: str):
    """Start recording the running occurrence (hosts, co-hosts and operators)."""
    user = require_user()
    meeting = meeting_or_404(slug)
    body = parse_body(RecordingStart)
    try:
        recording = lifecycle.start(meeting, user, body.layout, body.audio_only, body.preset)
    except lifecycle.AlreadyRecording as running:
        error = {"code": running.code, "message": running.message}
        return jsonify({"error": error, "recording": recording_json(running.recording)}), 409
    return jsonify(recording_json(recording)), 201


@bp.post("/recordings/<recording_id>/stop")
def stop_recording(recording_id: str):
    """Stop a running recording; its file arrives through the server's webhooks."""
    recording = visible_recording(recording_id)
    return jsonify(recording_json(lifecycle.stop(recording, current_user)))


@bp.get("/recordings")
def list_recordings():
    """Recordings the caller may see; filters `meeting`, `host`, `status`, `from`, `to`, `sort`."""
    user = require_user()
    wanted, _ = filter_from_args()
    if request.args.get("status") and wanted.status is None:
        statuses = ", ".join(s.value for s in RecordingStatus)
        raise ApiError(422, "invalid_field", f"`status` is one of: {statuses}.", "status")
    return jsonify({"items": [recording_json(r) for r in library.visible_to(user, wanted)]})


@bp.get("/recordings/<recording_id>")
def get_recording(recording_id: str):
    """One recording."""
    return jsonify(recording_json(visible_recording(recording_id)))


@bp.delete("/recordings/<recording_id>")
def delete_recording(recording_id: str):
    """Delete the file and the record (hosts and operators); refused under legal hold."""
    recording = visible_recording(recording_id)
    library.delete(recording, current_user, current_actor())
    return jsonify({"deleted": int(recording_id)})


@bp.get("/recordings/<recording_id>/media")
def recording_media(recording_id: str):
    """The file with byte ranges (local storage), or a redirect to a presigned URL (S3)."""
    recording = visible_recording(recording_id)
    download = request.args.get("download") == "1"
    return media.serve(recording, request.headers.get("Range"), download=download)
