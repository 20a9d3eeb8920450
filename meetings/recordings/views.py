"""Recordings pages: the list, one recording with its player, sharing, hold and deletion."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from meetings.extensions import db
from meetings.links import public_url
from meetings.models import RUNNING_STATUSES, Recording, RecordingAccess, RecordingStatus, Role
from meetings.recordings import bp, explain, library, lifecycle, media, signals
from meetings.recordings.filters import SORT_LABELS, filter_from_args
from meetings.recordings.forms import AccessForm, DeleteForm, HoldForm, StopForm
from meetings.recordings.lifecycle import RecordingRefused
from meetings.web import current_actor


def watchable(recording_id: int) -> Recording:
    """The recording, if the signed-in caller may watch it; 404 otherwise (not 403: people
    without access must not learn that it exists)."""
    recording = db.session.get(Recording, recording_id)
    if recording is None or not library.may_watch(current_user, recording):
        abort(404, "No recording of yours has this number.")
    return recording


def manageable(recording_id: int) -> Recording:
    recording = watchable(recording_id)
    if not library.may_manage_recording(current_user, recording):
        abort(403, "Only the meeting's hosts may change this recording.")
    return recording


@bp.get("/recordings")
@login_required
def index():
    """Recordings the caller may see, with filters and sorting."""
    wanted, form = filter_from_args()
    rows = library.visible_to(current_user, wanted)
    return render_template(
        "recordings/index.html",
        rows=rows,
        form=form,
        statuses=list(RecordingStatus),
        sorts=SORT_LABELS,
        is_ops=current_user.role == Role.OPS,
        failures={r.id: explain.failure_message(r) for r in rows},
    )


def render_detail(recording: Recording, new_link: str | None = None):
    media.allow_playback_from_bucket(recording)
    can_manage = library.may_manage_recording(current_user, recording)
    access_form = AccessForm(access=recording.access.value)
    return render_template(
        "recordings/detail.html",
        recording=recording,
        can_manage=can_manage,
        is_ops=current_user.role == Role.OPS,
        failure=explain.failure_message(recording),
        nothing_to_keep=library.has_nothing_to_keep(recording),
        access_form=access_form,
        hold_form=HoldForm(hold=not recording.legal_hold),
        delete_form=DeleteForm(),
        stop_form=StopForm() if recording.status in RUNNING_STATUSES else None,
        new_link=new_link,
        media_url=url_for("recordings.media_file", recording_id=recording.id),
        tracks=signals.tracks_for(recording),
    )


@bp.get("/recordings/<int:recording_id>")
@login_required
def detail(recording_id: int):
    """One recording: player, download, who was present, and (for hosts) its settings."""
    return render_detail(watchable(recording_id))


@bp.get("/recordings/<int:recording_id>/media")
@login_required
def media_file(recording_id: int):
    """The file, with byte ranges (`?download=1` saves it instead of playing it)."""
    recording = watchable(recording_id)
    download = request.args.get("download") == "1"
    return media.serve(recording, request.headers.get("Range"), download=download)


@bp.post("/recordings/<int:recording_id>/access")
@login_required
def change_access(recording_id: int):
    """Hosts choose who may watch; a secret link is shown once, right here."""
    recording = manageable(recording_id)
    form = AccessForm()
    if not form.validate_on_submit():
        flash("Choose who may watch the recording.", "error")
        return redirect(url_for("recordings.detail", recording_id=recording.id))
    try:
        link_token = library.set_access(recording, current_user, RecordingAccess(form.access.data))
    except RecordingRefused as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("recordings.detail", recording_id=recording.id))
    if link_token is None:
        flash("Saved who may watch the recording.", "success")
        return redirect(url_for("recordings.detail", recording_id=recording.id))
    link = public_url("recordings.shared", token=link_token)
    return render_detail(recording, new_link=link)


@bp.post("/recordings/<int:recording_id>/stop")
@login_required
def stop(recording_id: int):
    """Stop a running recording from its page; the file follows through the server's
    webhooks."""
    recording = manageable(recording_id)
    if not StopForm().validate_on_submit():
        flash("The page had expired: press Stop recording again.", "error")
        return redirect(url_for("recordings.detail", recording_id=recording.id))
    try:
        lifecycle.stop(recording, current_user)
    except RecordingRefused as refusal:
        flash(refusal.message, "error")
    else:
        flash("Stopping the recording. The file appears here once it is written.", "success")
    return redirect(url_for("recordings.detail", recording_id=recording.id))


@bp.post("/recordings/<int:recording_id>/hold")
@login_required
def change_hold(recording_id: int):
    """Operators place or lift a legal hold."""
    recording = watchable(recording_id)
    if current_user.role != Role.OPS:
        abort(403, "Only operators may place a legal hold.")
    form = HoldForm()
    if form.validate_on_submit():
        try:
            library.set_legal_hold(recording, current_user, form.hold.data, current_actor())
        except RecordingRefused as refusal:
            flash(refusal.message, "error")
        else:
            flash("Legal hold placed." if form.hold.data else "Legal hold lifted.", "success")
    return redirect(url_for("recordings.detail", recording_id=recording.id))


@bp.post("/recordings/<int:recording_id>/delete")
@login_required
def delete(recording_id: int):
    """Delete file and record, after an explicit confirmation; audited."""
    recording = manageable(recording_id)
    form = DeleteForm()
    if not form.validate_on_submit():
        flash("Tick the box to confirm that the recording should be deleted.", "error")
        return redirect(url_for("recordings.detail", recording_id=recording.id))
    try:
        library.delete(recording, current_user, current_actor())
    except RecordingRefused as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("recordings.detail", recording_id=recording_id))
    flash("The recording was deleted.", "success")
    return redirect(url_for("recordings.index"))


@bp.get("/recordings/shared/<token>")
def shared(token: str):
    """A recording shared by secret link: anyone holding it, until it expires."""
    recording = library.by_share_token(token)
    if recording is None:
        abort(404, "This link is not valid or has expired. Ask the host for a new one.")
    media.allow_playback_from_bucket(recording)
    return render_template(
        "recordings/shared.html",
        recording=recording,
        media_url=url_for("recordings.shared_media", token=token),
        tracks=signals.tracks_for(recording, share_token=token),
    )


@bp.get("/recordings/shared/<token>/media")
def shared_media(token: str):
    """The shared recording's file, with byte ranges."""
    recording = library.by_share_token(token)
    if recording is None:
        abort(404, "This link is not valid or has expired.")
    download = request.args.get("download") == "1"
    return media.serve(recording, request.headers.get("Range"), download=download)
