from flask import abort, render_template, url_for
from flask_login import current_user

from meetings.rooms import bp, services
from meetings.scheduling.services import meeting_by_slug


@bp.get("/m/<slug>")
def room(slug: str):
    """The meeting link: pre-join check and the call, or why it cannot be joined now."""
    meeting = meeting_by_slug(slug)
    if meeting is None:
        abort(404, "This meeting link is not valid. Check it with the person who sent it.")
    user = current_user if current_user.is_authenticated else None
    is_host = meeting.is_host(user)
    state = services.window(meeting, early_access=is_host)
    try:
        services.check_audience(meeting, user)
        blocked = None
    except services.JoinRefused as refusal:
        blocked = refusal.code  # sign_in_required or not_invited
    if state.phase != services.Phase.OPEN or blocked:
        return render_template(
            "rooms/closed.html",
            meeting=meeting,
            state=state,
            blocked=blocked,
            user=user,
            show_details=services.may_see_details(meeting, user),
        )
    page_data = {
        "slug": meeting.slug,
        "title": meeting.title,
        "tokenUrl": url_for("api.create_token", slug=meeting.slug),
        "displayName": user.display_name if user else "",
        "maxNameLength": services.MAX_DISPLAY_NAME,
        "accessCodeRequired": bool(meeting.access_code) and not is_host,
        "joinMuted": meeting.join_muted and not is_host,
        "canPublish": is_host or not meeting.webinar,
        "webinar": meeting.webinar,
        "lobby": meeting.lobby,
    }
    return render_template("rooms/room.html", meeting=meeting, page_data=page_data)
