from datetime import UTC, datetime, timedelta
from typing import TypeVar

from flask import current_app, jsonify, request, session
from flask_login import current_user
from pydantic import BaseModel, ValidationError

from meetings.api import bp, schemas
from meetings.api.openapi import openapi_document
from meetings.errors import ApiError
from meetings.extensions import limiter
from meetings.links import public_url
from meetings.models import Access, LobbyEntry, Meeting
from meetings.moderation import state
from meetings.rooms import services as rooms
from meetings.scheduling import recurrence as rec
from meetings.scheduling import services as scheduling

M = TypeVar("M", bound=BaseModel)
# Fields a PATCH may set to null (to clear them); the others need a value.
NULLABLE = {"description", "recurrence", "access_code", "max_participants"}
MAX_LISTING_DAYS = 366


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


def managed_meeting(slug: str) -> Meeting:
    user = require_user()
    meeting = meeting_or_404(slug)
    if not scheduling.may_manage(user, meeting):
        raise ApiError(403, "forbidden", "Only the meeting's hosts or an operator may do this.")
    return meeting


def recurrence_json(meeting: Meeting) -> dict | None:
    rule = rec.Recurrence.of(meeting)
    if rule is None:
        return None
    return {
        "freq": rule.freq.value,
        "interval": rule.interval,
        "by_weekday": list(rule.by_weekday),
        "count": rule.count,
        "until": rule.until.isoformat() if rule.until else None,
    }


def private_meeting_json(meeting: Meeting) -> dict:
    """What someone an invite-only meeting is not for may know: that it exists and is private."""
    return {
        "slug": meeting.slug,
        "access": meeting.access.value,
        "cancelled": meeting.is_cancelled,
        "join_url": public_url("rooms.room", slug=meeting.slug),
    }


def meeting_json(meeting: Meeting) -> dict:
    """What anyone holding the link sees; hosts also see invitees, co-hosts and the code."""
    user = current_user if current_user.is_authenticated else None
    if not rooms.may_see_details(meeting, user):
        return private_meeting_json(meeting)
    body = {
        "slug": meeting.slug,
        "title": meeting.title,
        "description": meeting.description,
        "starts_at": schemas.to_iso(meeting.starts_at),
        "duration_minutes": meeting.duration_minutes,
        "time_zone": meeting.time_zone,
        "recurrence": recurrence_json(meeting),
        "access": meeting.access.value,
        "access_code_required": bool(meeting.access_code),
        "lobby": meeting.lobby,
        "join_before_host": meeting.join_before_host,
        "max_participants": meeting.max_participants,
        "join_muted": meeting.join_muted,
        "webinar": meeting.webinar,
        "recording_allowed": meeting.recording_allowed,
        "auto_record": meeting.auto_record,
        "cancelled": meeting.is_cancelled,
        "join_url": public_url("rooms.room", slug=meeting.slug),
        "ics_url": public_url("calendar.meeting_ics", slug=meeting.slug),
        "host": {"display_name": meeting.host.display_name},
    }
    if current_user.is_authenticated and scheduling.may_manage(current_user, meeting):
        body["access_code"] = meeting.access_code
        body["invitees"] = meeting.invitee_emails
        body["co_hosts"] = [user.email for user in meeting.co_hosts]
    return body


def occurrence_json(occurrence: rec.Occurrence) -> dict:
    return {
        "slug": occurrence.meeting.slug,
        "title": occurrence.meeting.title,
        "key": occurrence.key,
        "starts_at": schemas.to_iso(occurrence.starts_at),
        "ends_at": schemas.to_iso(occurrence.ends_at),
        "join_url": public_url("rooms.room", slug=occurrence.meeting.slug),
        "ics_url": public_url(
            "calendar.occurrence_ics",
            slug=occurrence.meeting.slug,
            key=occurrence.key,
        ),
    }


def settings_from(body: schemas.MeetingFields, base: scheduling.MeetingSettings):
    """Apply the fields the client sent onto `base`.

    Raises:
        ApiError: 422 when a required setting is set to null.
    """
    changes = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None and name not in NULLABLE:
            raise ApiError(422, "invalid_field", f"{name} cannot be null.", name)
        if name == "recurrence" and value is not None:
            value = rec.Recurrence(
                freq=value.freq,
                interval=value.interval,
                by_weekday=tuple(value.by_weekday),
                count=value.count,
                until=value.until,
            )
        elif name in ("invitees", "co_hosts"):
            value = tuple(value)
        elif name == "description":
            value = value or ""
        changes[name] = value
    return base.updated(**changes)


def invalid(error: scheduling.InvalidMeeting) -> ApiError:
    return ApiError(422, "invalid_field", error.message, error.field)


@bp.get("/openapi.json")
def openapi():
    """The API's OpenAPI 3 description."""
    return jsonify(openapi_document())


@bp.post("/meetings")
def create_meeting():
    """Schedule a meeting for the caller."""
    host = require_user()
    body = parse_body(schemas.MeetingCreate)
    # The lobby is on by default where anyone with the link may come in.
    lobby_default = body.access in (None, Access.LINK)
    base = scheduling.MeetingSettings(
        body.title, body.starts_at, body.duration_minutes, lobby=lobby_default
    )
    try:
        meeting = scheduling.create_meeting(host, settings_from(body, base))
    except scheduling.InvalidMeeting as error:
        raise invalid(error) from error
    return jsonify(meeting_json(meeting)), 201


@bp.get("/meetings")
def list_occurrences():
    """Occurrences of the caller's meetings between `from` and `to` (ISO 8601)."""
    user = require_user()
    now = datetime.now(UTC)
    start = _query_time("from", now)
    end = _query_time("to", start + timedelta(days=30))
    if end <= start or end - start > timedelta(days=MAX_LISTING_DAYS):
        raise ApiError(422, "invalid_field", "`to` must be after `from`, within a year.", "to")
    items = scheduling.hosted_occurrences(user, start, end)
    return jsonify({"items": [occurrence_json(o) for o in items]})


def _query_time(name: str, default: datetime) -> datetime:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "invalid_field", f"`{name}` is not an ISO 8601 time.", name) from None
    if value.tzinfo is None:
        raise ApiError(422, "invalid_field", f"Give `{name}` with its UTC offset.", name)
    return value


@bp.get("/meetings/<slug>")
def get_meeting(slug: str):
    """One meeting; anyone holding the link may read it."""
    return jsonify(meeting_json(meeting_or_404(slug)))


@bp.patch("/meetings/<slug>")
def update_meeting(slug: str):
    """Change some settings of a meeting; fields not sent keep their values."""
    meeting = managed_meeting(slug)
    body = parse_body(schemas.MeetingUpdate)
    try:
        settings = settings_from(body, scheduling.MeetingSettings.of(meeting))
        scheduling.update_meeting(meeting, settings)
    except scheduling.InvalidMeeting as error:
        raise invalid(error) from error
    return jsonify(meeting_json(meeting))


@bp.delete("/meetings/<slug>")
def cancel_meeting(slug: str):
    """Cancel a meeting: its link then says it was cancelled."""
    meeting = managed_meeting(slug)
    scheduling.cancel_meeting(meeting)
    return jsonify(meeting_json(meeting))


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
    ticket = rooms.issue_join_ticket(
        meeting, user, guest_identity, display_name, body.access_code, request.remote_addr or ""
    )
    if isinstance(ticket, LobbyEntry):
        # The person waits; their page asks `GET .../lobby/<lobby_id>` until a host decides.
        waiting = {"status": "waiting", "lobby_id": ticket.id, "position": state.position(ticket)}
        return jsonify(waiting), 202
    return jsonify(ticket.as_json()), 201
