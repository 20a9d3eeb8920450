from flask import Response, abort
from flask_login import current_user

from meetings.calendar import bp, ics, services
from meetings.links import public_url
from meetings.models import Meeting
from meetings.scheduling import recurrence
from meetings.scheduling.access import may_see_details

UNKNOWN_MEETING = "This meeting link is not valid. Check it with the person who sent it."
UNKNOWN_FEED = "This calendar feed address is not valid. Copy the current one from your account."


@bp.get("/meetings/<slug>/calendar.ics")
def meeting_ics(slug: str):
    """The meeting as a calendar file, for anyone holding its link (as the join page)."""
    meeting = _meeting_or_404(slug)
    body = ics.meeting_calendar(meeting, _join_url(meeting))
    return _ics_response(body, f"{meeting.slug}.ics")


@bp.get("/meetings/<slug>/occurrences/<key>.ics")
def occurrence_ics(slug: str, key: str):
    """One occurrence of the meeting as a calendar file."""
    meeting = _meeting_or_404(slug)
    occurrence = recurrence.occurrence_by_key(meeting, key)
    if occurrence is None:
        abort(404, "This meeting has no occurrence at that time.")
    body = ics.occurrence_calendar(occurrence, _join_url(meeting))
    return _ics_response(body, f"{meeting.slug}-{occurrence.key}.ics")


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    """The user's calendar feed; the token in the address is the only credential."""
    user = services.feed_user(token)
    if user is None:
        abort(404, UNKNOWN_FEED)
    meetings = services.feed_meetings(user)
    body = ics.feed_calendar(user, [(meeting, _join_url(meeting)) for meeting in meetings])
    return _ics_response(body, "meetings.ics")


def _meeting_or_404(slug: str) -> Meeting:
    """The meeting, for people who may read its details (an invite-only meeting's calendar
    file is for those it is for)."""
    meeting = Meeting.by_slug(slug)
    user = current_user if current_user.is_authenticated else None
    if meeting is None or not may_see_details(meeting, user):
        abort(404, UNKNOWN_MEETING)
    return meeting


def _join_url(meeting: Meeting) -> str:
    return public_url("rooms.room", slug=meeting.slug)


def _ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
