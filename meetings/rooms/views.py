"""The meeting link: the pre-join check and the call, or why it cannot be joined now."""

import sqlalchemy as sa
from flask import abort, current_app, render_template, url_for

from meetings.extensions import db
from meetings.models import CaptionsStatus, Meeting, Transcript
from meetings.rooms import bp, joining
from meetings.scheduling.access import NotForYou, check_audience, may_see_details
from meetings.scheduling.window import Phase, window
from meetings.web import signed_in_user


@bp.get("/m/<slug>")
def room(slug: str):
    """The meeting link: pre-join check and the call, or why it cannot be joined now."""
    meeting = Meeting.by_slug(slug)
    if meeting is None:
        abort(404, "This meeting link is not valid. Check it with the person who sent it.")
    user = signed_in_user()
    is_host = meeting.is_host(user)
    schedule = window(meeting, early_access=is_host)
    try:
        check_audience(meeting, user)
        blocked = None
    except NotForYou as refusal:
        blocked = refusal.code  # sign_in_required or not_invited
    if schedule.phase != Phase.OPEN or blocked:
        return render_template(
            "rooms/closed.html",
            meeting=meeting,
            state=schedule,
            blocked=blocked,
            user=user,
            show_details=may_see_details(meeting, user),
        )
    page_data = {
        "slug": meeting.slug,
        "title": meeting.title,
        "tokenUrl": url_for("api.create_token", slug=meeting.slug),
        # Public, like every ticket's: the page warms its connection while people get ready.
        "livekitUrl": current_app.config["LIVEKIT_PUBLIC_URL"],
        "displayName": user.display_name if user else "",
        "maxNameLength": joining.MAX_DISPLAY_NAME,
        "accessCodeRequired": bool(meeting.access_code) and not is_host,
        "joinMuted": meeting.join_muted and not is_host,
        "canPublish": is_host or not meeting.webinar,
        "webinar": meeting.webinar,
        "lobby": meeting.lobby,
    }
    captions = {
        "automatic": meeting.captions,
        "status": captions_now(schedule.occurrence.room_name).value,
        "mayToggle": is_host,
        # TODO(issue 20): url_for the captions endpoint (meetings/captions) once it exists;
        # its path is the contract's.
        "url": url_for("api.create_token", slug=meeting.slug).removesuffix("/tokens")
        + "/captions",
    }
    return render_template(
        "rooms/room.html", meeting=meeting, page_data=page_data, is_host=is_host, captions=captions
    )


def captions_now(room_name: str) -> CaptionsStatus:
    """Live captions in this occurrence's room as the app last recorded them ("off" before any).

    The pre-join page says so; in the call the room's metadata tells the page from then on.
    """
    # TODO(issue 20): meetings/captions' reading of the initial state, once it exists.
    query = sa.select(Transcript.status).where(Transcript.room_name == room_name)
    status = db.session.scalar(query)
    return status or CaptionsStatus.OFF
