"""The meeting's streaming page (its hosts): where the meeting streams when it starts, and
encoders that stream into it. Making an encoder shows its RTMP URL and stream key, the key on
that answer only."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from meetings.errors import ApiError
from meetings.links import public_url
from meetings.models import Meeting
from meetings.streaming import bp, ingest_jobs, ingests, plans
from meetings.streaming.forms import IngestForm, StreamPlanForm
from meetings.web import current_actor, managed_meeting_or_404


def _hosts_meeting(slug: str) -> Meeting:
    meeting = managed_meeting_or_404(slug)
    if not meeting.is_host(current_user):
        abort(403, "Only the meeting's hosts manage its streams.")
    return meeting


@bp.route("/meetings/<slug>/streaming", methods=["GET", "POST"])
@login_required
def index(slug: str):
    """Where the meeting streams when it starts; its encoders, their state, and a form to add
    one."""
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


def _page(
    meeting: Meeting,
    form: IngestForm | None = None,
    made: ingests.NewIngest | None = None,
    plan_form: StreamPlanForm | None = None,
) -> str:
    plan = plans.plan_of(meeting)
    return render_template(
        "streaming/index.html",
        meeting=meeting,
        form=form or IngestForm(formdata=None),
        made=made,
        ingests=ingests.active_ingests(meeting),
        rtmp_url=ingests.rtmp_url,
        plan=plan,
        plan_hints=plans.hints(plan) if plan else [],
        plan_form=plan_form or StreamPlanForm(formdata=None, hls=plan.hls if plan else True),
        watch_url=public_url("streaming.watch", slug=meeting.slug),
    )


@bp.post("/meetings/<slug>/streaming/plan")
@login_required
def save_plan(slug: str):
    """Stream the meeting when it starts, to these destinations (replacing the saved ones)."""
    meeting = _hosts_meeting(slug)
    form = StreamPlanForm()
    if form.validate_on_submit():
        urls = [line for line in (form.destinations.data or "").splitlines() if line.strip()]
        try:
            plans.save(meeting, current_actor(), urls, form.hls.data)
        except ApiError as refused:
            form.destinations.errors.append(refused.message)
        else:
            flash("Saved: the meeting streams when a host joins it.", "success")
            return redirect(url_for("streaming.index", slug=meeting.slug))
    return _page(meeting, plan_form=form), 422


@bp.post("/meetings/<slug>/streaming/plan/remove")
@login_required
def remove_plan(slug: str):
    meeting = _hosts_meeting(slug)
    plans.remove(meeting, current_actor())
    flash("The meeting no longer streams when it starts.", "success")
    return redirect(url_for("streaming.index", slug=meeting.slug))


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
