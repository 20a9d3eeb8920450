"""The meeting link: the pre-join check and the call, or why it cannot be joined now."""

from flask import abort, current_app, g, render_template, url_for

from meetings.links import public_url
from meetings.models import Meeting
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
    if meeting.e2ee:
        # Never a key: the page reads it from the link's fragment, which we never receive.
        page_data["e2ee"] = {
            "workerUrl": url_for("static", filename="vendor/livekit-client.e2ee.worker.js"),
            "link": public_url("rooms.room", slug=meeting.slug),
            "host": is_host,
        }
    g.runs_wasm = True  # background effects (static/js/room/effects.js): meetings/security.py
    return render_template(
        "rooms/room.html",
        meeting=meeting,
        page_data=page_data,
        is_host=is_host,
        occurrence=schedule.occurrence,  # live captions' state (the captions_state global)
    )
