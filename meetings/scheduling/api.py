"""REST API v1: schedule, read, change and cancel meetings; list a host's occurrences."""

from datetime import UTC, datetime, timedelta

from flask import jsonify, request

from meetings.api import bp
from meetings.api.bodies import parse_body, to_iso
from meetings.errors import ApiError, FieldError
from meetings.links import public_url
from meetings.models import Access, Meeting
from meetings.scheduling import listings, services
from meetings.scheduling import recurrence as rec
from meetings.scheduling.access import may_see_details
from meetings.scheduling.options import OPTIONS
from meetings.scheduling.schemas import MeetingCreate, MeetingFields, MeetingUpdate
from meetings.scheduling.settings import InvalidMeeting, MeetingSettings, known_zone_name
from meetings.web import managed_meeting, meeting_or_404, require_user, signed_in_user

# Fields a PATCH may set to null (to clear them); the others need a value.
NULLABLE = {"description", "recurrence", "access_code"} | {o.name for o in OPTIONS if o.nullable}
MAX_LISTING_DAYS = 366


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
    user = signed_in_user()
    if not may_see_details(meeting, user):
        return private_meeting_json(meeting)
    body = {
        "slug": meeting.slug,
        "title": meeting.title,
        "description": meeting.description,
        "starts_at": to_iso(meeting.starts_at),
        "duration_minutes": meeting.duration_minutes,
        "time_zone": meeting.time_zone,
        "recurrence": recurrence_json(meeting),
        "access": meeting.access.value,
        "access_code_required": bool(meeting.access_code),
        **{option.name: getattr(meeting, option.name) for option in OPTIONS},
        "cancelled": meeting.is_cancelled,
        "join_url": public_url("rooms.room", slug=meeting.slug),
        "ics_url": public_url("calendar.meeting_ics", slug=meeting.slug),
        "host": {"display_name": meeting.host.display_name},
    }
    if meeting.is_managed_by(user):
        body["access_code"] = meeting.access_code
        body["invitees"] = meeting.invitee_emails
        body["co_hosts"] = [co_host.email for co_host in meeting.co_hosts]
    return body


def occurrence_json(occurrence: rec.Occurrence) -> dict:
    return {
        "slug": occurrence.meeting.slug,
        "title": occurrence.meeting.title,
        "key": occurrence.key,
        "starts_at": to_iso(occurrence.starts_at),
        "ends_at": to_iso(occurrence.ends_at),
        "join_url": public_url("rooms.room", slug=occurrence.meeting.slug),
        "ics_url": public_url(
            "calendar.occurrence_ics",
            slug=occurrence.meeting.slug,
            key=occurrence.key,
        ),
    }


def settings_from(body: MeetingFields, base: MeetingSettings) -> MeetingSettings:
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
        elif name == "time_zone" and value is not None:
            value = known_zone_name(value)
        changes[name] = value
    return base.updated(**changes)


def invalid(error: InvalidMeeting) -> ApiError:
    problems = [FieldError(field, message) for field, message in error.problems]
    return ApiError(422, "invalid_field", error.message, error.field, errors=problems)


@bp.post("/meetings")
def create_meeting():
    """Schedule a meeting for the caller."""
    host = require_user()
    body = parse_body(MeetingCreate)
    # The lobby is on by default where anyone with the link may come in.
    lobby_default = body.access in (None, Access.LINK)
    base = MeetingSettings(body.title, body.starts_at, body.duration_minutes, lobby=lobby_default)
    try:
        meeting = services.create_meeting(host, settings_from(body, base))
    except InvalidMeeting as error:
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
    items = listings.hosted_occurrences(user, start, end)
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
    body = parse_body(MeetingUpdate)
    try:
        settings = settings_from(body, MeetingSettings.of(meeting))
        services.update_meeting(meeting, settings)
    except InvalidMeeting as error:
        raise invalid(error) from error
    return jsonify(meeting_json(meeting))


@bp.delete("/meetings/<slug>")
def cancel_meeting(slug: str):
    """Cancel a meeting: its link then says it was cancelled."""
    meeting = managed_meeting(slug)
    services.cancel_meeting(meeting)
    return jsonify(meeting_json(meeting))
