"""REST API v1: what LiveKit reported (sessions, attendance) and the ops views of it."""

from datetime import UTC, date, datetime, time, timedelta

from flask import jsonify, request

from meetings import livekit_gateway as gateway
from meetings.api import bp
from meetings.api.bodies import to_iso
from meetings.errors import ApiError
from meetings.ledger import dashboard, history
from meetings.models import MeetingSession
from meetings.web import managed_meeting, require_ops

MAX_USAGE_DAYS = 366


def session_json(session: MeetingSession) -> dict:
    return {
        "id": session.id,
        "room_name": session.room_name,
        "occurrence_key": session.occurrence_key,
        "started_at": to_iso(session.started_at),
        "ended_at": to_iso(session.ended_at),
        "end_inferred": session.end_inferred,
        "duration_seconds": session.duration_seconds,
        "peak_participants": session.peak_participants,
        "total_participants": session.total_participants,
        "participant_seconds": session.participant_seconds,
    }


@bp.get("/meetings/<slug>/sessions")
def meeting_sessions(slug: str):
    """Each time one of the meeting's rooms was open; hosts and ops."""
    meeting = managed_meeting(slug)
    return jsonify({"items": [session_json(s) for s in history.sessions_for(meeting)]})


@bp.get("/meetings/<slug>/attendance")
def attendance(slug: str):
    """Who joined and left, one row per interval, from the server's webhooks; hosts and ops."""
    meeting = managed_meeting(slug)
    return jsonify(
        [
            {
                "identity": interval.identity,
                "display_name": interval.display_name,
                "joined_at": to_iso(interval.joined_at),
                "left_at": to_iso(interval.left_at),
                "session_id": interval.session_id,
                "seconds": interval.seconds,
            }
            for interval in history.intervals_for(meeting)
        ]
    )


@bp.get("/ops/rooms")
def ops_rooms():
    """Rooms live on the server, joined with our meetings and the ledger; ops only."""
    require_ops()
    try:
        live = dashboard.live_rooms()
    except gateway.LiveKitError as error:
        raise ApiError(503, "livekit_unavailable", f"LiveKit did not answer: {error}") from error
    items = [
        {
            "name": room.name,
            "sid": room.sid,
            "meeting": (
                {
                    "slug": room.meeting.slug,
                    "title": room.meeting.title,
                    "host": room.meeting.host.display_name,
                }
                if room.meeting
                else None
            ),
            "occurrence_key": room.occurrence_key,
            "unknown_room": room.unknown,
            "participants": room.participants,
            "ledger_participants": room.ledger_participants,
            "started_at": to_iso(room.started_at),
            "duration_seconds": room.duration_seconds,
        }
        for room in live.rooms
    ]
    return jsonify({"items": items, "latency_ms": live.latency_ms})


@bp.get("/ops/usage")
def ops_usage():
    """Sessions, meeting minutes and participants per day or week; ops only."""
    require_ops()
    bucket = request.args.get("bucket", "day")
    if bucket not in dashboard.BUCKETS:
        raise ApiError(422, "invalid_field", "`bucket` is `day` or `week`.", "bucket")
    now = datetime.now(UTC)
    end = _day_or_time("to", now)
    start = _day_or_time("from", end - timedelta(days=30))
    if end <= start or end - start > timedelta(days=MAX_USAGE_DAYS):
        raise ApiError(422, "invalid_field", "`to` must be after `from`, within a year.", "to")
    items = [
        {
            "start": row.start.isoformat(),
            "sessions": row.sessions,
            "meeting_minutes": row.meeting_minutes,
            "participants": row.participants,
            "participant_minutes": row.participant_minutes,
            "peak_participants": row.peak_participants,
        }
        for row in dashboard.usage(start, end, bucket, now)
    ]
    return jsonify({"bucket": bucket, "from": to_iso(start), "to": to_iso(end), "items": items})


def _day_or_time(name: str, default: datetime) -> datetime:
    """`2026-11-23` (midnight UTC) or an ISO 8601 time with its offset.

    Raises:
        ApiError: 422 naming the parameter.
    """
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time.min, UTC)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "invalid_field", f"`{name}` is not a date or time.", name) from None
    if value.tzinfo is None:
        raise ApiError(422, "invalid_field", f"Give `{name}` with its UTC offset.", name)
    return value.astimezone(UTC)
