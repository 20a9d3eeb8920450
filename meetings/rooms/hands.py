"""Raised hands: an attribute the server sets, stamped with the server's clock."""

from datetime import UTC, datetime

from meetings import livekit_gateway as gateway
from meetings.errors import ApiError
from meetings.models import Meeting
from meetings.rooms.errors import UNREACHABLE_NOTHING_CHANGED
from meetings.scheduling.window import Phase, window


def set_hand(room: str, identity: str, *, raised: bool) -> None:
    """Raises: RoomNotFound for someone not in the room, LiveKitUnavailable."""
    gateway.get_participant(room, identity)  # 404 for someone not there
    gateway.set_attributes(room, identity, {"hand": _hand_value(raised)})


def _hand_value(raised: bool) -> str:
    # The server's clock orders the queue, not each raiser's own.
    return datetime.now(UTC).isoformat().replace("+00:00", "Z") if raised else ""


def raise_own_hand(meeting: Meeting, identity: str, raised: bool) -> None:
    """A participant raises or lowers their own hand, in the occurrence running now.

    Raises:
        ApiError: 409 when no occurrence runs, 404 when the caller is not in the room,
            503 when the server cannot be reached.
    """
    schedule = window(meeting, early_access=True)
    if schedule.phase != Phase.OPEN:
        raise ApiError(409, "not_running", "This meeting is not running now.")
    try:
        set_hand(schedule.occurrence.room_name, identity, raised=raised)
    except gateway.RoomNotFound as error:
        raise ApiError(404, "not_in_meeting", "Join the meeting first.") from error
    except gateway.LiveKitError as error:
        raise ApiError(503, "livekit_unavailable", UNREACHABLE_NOTHING_CHANGED) from error
