"""The meeting's streaming page (its hosts): encoders that stream into the meeting. Making
one shows its RTMP URL and stream key, the key on that answer only."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from meetings.errors import ApiError
from meetings.models import Meeting
from meetings.streaming import bp, ingest_jobs, ingests
from meetings.streaming.forms import IngestForm
from meetings.web import current_actor, managed_meeting_or_404


def _hosts_meeting(slug: str) -> Meeting:
    meeting = managed_meeting_or_404(slug)
    if not meeting.is_host(current_user):
        abort(403, "Only the meeting's hosts manage what streams into it.")
    return meeting


@bp.route("/meetings/<slug>/streaming", methods=["GET", "POST"])
@login_required
def index(slug: str):
    """The meeting's encoders, their state, and a form to add one."""
    meeting = _hosts_meeting(slug)
    form = IngestForm()
    made = None
    if form.validate_on_submit():
        try:
            made = ingests.create(meeting, current_user, current_actor(), form.name.data)
        except ApiError as refused:
            form.name.errors.append(refused.message)
        else:
            ingest_jobs.start_if_running(meeting, made.ingest)
            form = IngestForm(formdata=None)
    status = 422 if form.errors else 200
    return _page(meeting, form, made), status


def _page(meeting: Meeting, form: IngestForm, made: ingests.NewIngest | None) -> str:
    return render_template(
        "streaming/index.html",
        meeting=meeting,
        form=form,
        made=made,
        ingests=ingests.active_ingests(meeting),
        rtmp_url=ingests.rtmp_url,
    )


@bp.post("/meetings/<slug>/streaming/<ingest_id>/revoke")
@login_required
def revoke(slug: str, ingest_id: str):
    meeting = _hosts_meeting(slug)
    try:
        ingest = ingests.find(meeting, ingest_id)
    except ApiError:
        flash("That encoder was removed already.", "error")
    else:
        ingests.revoke(meeting, ingest, current_actor())
        flash(f"{ingest.name} removed: its stream key no longer works.", "success")
    return redirect(url_for("streaming.index", slug=meeting.slug))
