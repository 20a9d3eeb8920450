from flask import abort, render_template, url_for
from flask_login import current_user

from meetings.rooms import bp
from meetings.rooms.services import MAX_DISPLAY_NAME
from meetings.scheduling.services import meeting_by_slug


@bp.get("/m/<slug>")
def room(slug: str):
    """Pre-join check, then the meeting itself, on one page."""
    meeting = meeting_by_slug(slug)
    if meeting is None:
        abort(404, "This meeting link is not valid. Check it with the person who sent it.")
    page_data = {
        "slug": meeting.slug,
        "title": meeting.title,
        "tokenUrl": url_for("api.create_token", slug=meeting.slug),
        "displayName": current_user.display_name if current_user.is_authenticated else "",
        "maxNameLength": MAX_DISPLAY_NAME,
    }
    return render_template("rooms/room.html", meeting=meeting, page_data=page_data)
