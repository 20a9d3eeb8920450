from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from meetings.scheduling import bp, services
from meetings.scheduling.forms import MeetingForm


@bp.get("/")
def index():
    """Signed-in people land on their dashboard; others on the sign-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("scheduling.dashboard"))
    return redirect(url_for("auth.login"))


@bp.get("/dashboard")
@login_required
def dashboard():
    """The host's upcoming meetings."""
    meetings = services.upcoming_meetings(current_user)
    return render_template("scheduling/dashboard.html", meetings=meetings)


@bp.route("/meetings/new", methods=["GET", "POST"])
@login_required
def new_meeting():
    """Schedule a meeting."""
    form = MeetingForm()
    if form.validate_on_submit():
        try:
            draft = services.MeetingDraft(
                title=form.title.data,
                starts_at=services.local_to_utc(form.starts_at.data, form.time_zone.data or "UTC"),
                duration_minutes=form.duration_minutes.data,
            )
            meeting = services.create_meeting(current_user, draft)
        except services.InvalidMeeting as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            flash("Meeting scheduled. Share the link with your guests.", "success")
            return redirect(url_for("scheduling.detail", slug=meeting.slug))
    return render_template("scheduling/new.html", form=form)


@bp.get("/meetings/<slug>")
@login_required
def detail(slug: str):
    """The meeting's link and times, for its host."""
    meeting = services.meeting_by_slug(slug)
    if meeting is None or not services.may_manage(current_user, meeting):
        abort(404, "No meeting of yours has this link.")
    join_url = url_for("rooms.room", slug=meeting.slug, _external=True)
    return render_template("scheduling/detail.html", meeting=meeting, join_url=join_url)
