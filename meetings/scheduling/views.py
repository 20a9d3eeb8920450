from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from meetings.links import public_url
from meetings.models import Meeting
from meetings.scheduling import bp, listings, services
from meetings.scheduling import recurrence as rec
from meetings.scheduling.forms import CancelForm, MeetingForm
from meetings.scheduling.options import OPTIONS
from meetings.scheduling.settings import InvalidMeeting
from meetings.web import managed_meeting_or_404

# Where a service-level error about a setting shows up on the form.
FORM_FIELD = {
    "recurrence": "repeat",
    "recurrence.interval": "interval",
    "recurrence.count": "count",
    "recurrence.until": "until",
    "recurrence.by_weekday": "by_weekday",
}


@bp.get("/")
def index():
    """Signed-in people land on their dashboard; others on the sign-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("scheduling.dashboard"))
    return redirect(url_for("auth.login"))


@bp.get("/dashboard")
@login_required
def dashboard():
    """Upcoming and past occurrences of the meetings the user hosts or co-hosts."""
    return render_template(
        "scheduling/dashboard.html",
        upcoming=listings.upcoming_occurrences(current_user),
        past=listings.past_occurrences(current_user),
    )


@bp.route("/meetings/new", methods=["GET", "POST"])
@login_required
def new_meeting():
    """Schedule a meeting."""
    form = MeetingForm()
    if form.validate_on_submit():
        meeting = _save(form, lambda settings: services.create_meeting(current_user, settings))
        if meeting is not None:
            flash("Meeting scheduled. Share the link with your guests.", "success")
            return redirect(url_for("scheduling.detail", slug=meeting.slug))
    return render_template("scheduling/edit.html", form=form, meeting=None)


@bp.route("/meetings/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_meeting(slug: str):
    """Change a meeting's settings; calendar files get a higher SEQUENCE."""
    meeting = managed_meeting_or_404(slug)
    if meeting.is_cancelled:
        flash("This meeting was cancelled; it cannot be changed.", "error")
        return redirect(url_for("scheduling.detail", slug=slug))
    form = MeetingForm() if request.method == "POST" else MeetingForm.for_meeting(meeting)
    if form.validate_on_submit():
        saved = _save(form, lambda settings: services.update_meeting(meeting, settings))
        if saved is not None:
            flash("Meeting updated. Calendars that subscribed will pick it up.", "success")
            return redirect(url_for("scheduling.detail", slug=slug))
    return render_template("scheduling/edit.html", form=form, meeting=meeting)


@bp.post("/meetings/<slug>/cancel")
@login_required
def cancel_meeting(slug: str):
    """Cancel every future occurrence; the link says the meeting was cancelled."""
    meeting = managed_meeting_or_404(slug)
    if CancelForm().validate_on_submit():
        services.cancel_meeting(meeting)
        flash("Meeting cancelled. Its link now says so.", "success")
    return redirect(url_for("scheduling.detail", slug=slug))


@bp.get("/meetings/<slug>")
@login_required
def detail(slug: str):
    """The meeting's link, settings, next occurrences and calendar files."""
    meeting = managed_meeting_or_404(slug)
    return render_template(
        "scheduling/detail.html",
        meeting=meeting,
        join_url=public_url("rooms.room", slug=meeting.slug),
        occurrences=listings.next_occurrences(meeting),
        repeats=rec.describe(rec.Recurrence.of(meeting)),
        options=option_facts(meeting),
        cancel_form=CancelForm(),
    )


def option_facts(meeting: Meeting) -> list[tuple[str, str]]:
    """Every option as the form names it, with its value: none stays hidden on the page."""
    facts = []
    for option in OPTIONS:
        value = getattr(meeting, option.name)
        if option.kind is bool:
            shown = "On" if value else "Off"
        else:
            shown = "No limit" if value is None else str(value)
        facts.append((option.label, shown))
    return facts


def _save(form: MeetingForm, store):
    """Run `store(settings)`; on a bad setting put the message on its field, return None."""
    try:
        return store(form.to_settings())
    except InvalidMeeting as error:
        for name, message in error.problems:
            field = getattr(form, FORM_FIELD.get(name, name), None)
            (field.errors if field is not None else form.form_errors).append(message)
        return None
