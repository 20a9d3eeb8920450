from typing import TypeVar

from flask import current_app, jsonify, request, session, url_for
from flask_login import current_user
from pydantic import BaseModel, ValidationError

from meetings.api import bp, schemas
from meetings.api.openapi import openapi_document
from meetings.errors import ApiError
from meetings.extensions import limiter
from meetings.models import Meeting
from meetings.rooms import services as rooms
from meetings.scheduling import services as scheduling
from meetings.webhooks.services import attendance_for

M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M]) -> M:
    """The JSON body as `model`.

    Raises:
        ApiError: 400 for a body that is not a JSON object, 422 naming the first bad field.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "Send a JSON object with Content-Type: application/json.")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = f"{field}: {first['msg']}" if field else first["msg"]
        raise ApiError(422, "invalid_field", message, field) from error


def require_user():
    if not current_user.is_authenticated:
        raise ApiError(401, "unauthenticated", "Send `Authorization: Bearer <api token>`.")
    return current_user


def meeting_or_404(slug: str) -> Meeting:
    meeting = scheduling.meeting_by_slug(slug)
    if meeting is None:
        raise ApiError(404, "meeting_not_found", f"No meeting has the slug {slug!r}.")
    return meeting


def meeting_json(meeting: Meeting) -> dict:
    return {
        "slug": meeting.slug,
        "title": meeting.title,
        "starts_at": schemas.to_iso(meeting.starts_at),
        "duration_minutes": meeting.duration_minutes,
        "join_url": url_for("rooms.room", slug=meeting.slug, _external=True),
        "host": {"display_name": meeting.host.display_name},
    }


@bp.get("/openapi.json")
def openapi():
    """The API's OpenAPI 3 description."""
    return jsonify(openapi_document())


@bp.post("/meetings")
def create_meeting():
    """Schedule a meeting for the caller."""
    host = require_user()
    body = parse_body(schemas.MeetingCreate)
    draft = scheduling.MeetingDraft(body.title, body.starts_at, body.duration_minutes)
    try:
        meeting = scheduling.create_meeting(host, draft)
    except scheduling.InvalidMeeting as error:
        raise ApiError(422, "invalid_field", error.message, error.field) from error
    return jsonify(meeting_json(meeting)), 201


@bp.get("/meetings/<slug>")
def get_meeting(slug: str):
    """One meeting; anyone holding the link may read it."""
    return jsonify(meeting_json(meeting_or_404(slug)))


@bp.post("/meetings/<slug>/tokens")
@limiter.limit(lambda: current_app.config["TOKEN_REQUEST_LIMIT"], scope="media-token")
def create_token(slug: str):
    """A media token for the caller: host, signed-in participant or guest."""
    meeting = meeting_or_404(slug)
    body = parse_body(schemas.TokenRequest)
    user = current_user if current_user.is_authenticated else None
    fallback_name = user.display_name if user is not None else ""
    display_name = rooms.clean_display_name(body.display_name, fallback_name)
    guest_identity = None
    if user is None:
        # The same browser keeps its guest identity across reconnects and reloads.
        guest_identity = session.setdefault("guest_identity", rooms.new_guest_identity())
    ticket = rooms.issue_join_ticket(meeting, user, guest_identity, display_name)
    return jsonify(ticket.as_json()), 201


@bp.get("/meetings/<slug>/attendance")
def attendance(slug: str):
    """Who joined and left, from the media server's webhooks; host only."""
    user = require_user()
    meeting = meeting_or_404(slug)
    if not scheduling.may_manage(user, meeting):
        raise ApiError(
            403, "forbidden", "Only the meeting's host or an operator may read its attendance."
        )
    rows = attendance_for(meeting)
    return jsonify(
        [
            {
                "identity": row.identity,
                "display_name": row.display_name,
                "joined_at": schemas.to_iso(row.joined_at) if row.joined_at else None,
                "left_at": schemas.to_iso(row.left_at) if row.left_at else None,
            }
            for row in rows
        ]
    )
