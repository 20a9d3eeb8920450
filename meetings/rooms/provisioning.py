"""Rooms on the media server: an occurrence's room is made (CreateRoom) before anyone gets a
token for it, since the server runs with auto_create off; no room exists that this code did
not create.
"""

from datetime import UTC, datetime, timedelta

from flask import current_app

from meetings import livekit_gateway as gateway
from meetings.rooms import decisions as host_decisions
from meetings.rooms.errors import UNREACHABLE, JoinRefused
from meetings.scheduling.recurrence import Occurrence

# Server and app clocks may differ by this much when we judge that CreateRoom made the room.
CLOCK_SKEW = timedelta(seconds=2)
# Never trust the memo longer than this, whatever the timeouts.
MEMO_CAP = timedelta(seconds=60)


def memo_window() -> timedelta:
    """How long after provisioning a join may skip CreateRoom.

    The memo is only written when the room cannot close soon: someone is in it, or CreateRoom
    has just made it. livekit-server then keeps it at least `departure_timeout` after the
    last person leaves, and `empty_timeout` from creation if nobody comes (checked once a
    second, in whole seconds: count one second less). Half the shorter of the two (10 s with
    the defaults, 20 s and 300 s) leaves the other half for the clock skew above and for the
    browser to connect with its token before the room could close.
    """
    config = current_app.config
    shortest = min(
        config["LIVEKIT_EMPTY_TIMEOUT_SECONDS"], config["LIVEKIT_DEPARTURE_TIMEOUT_SECONDS"]
    )
    return min(MEMO_CAP, timedelta(seconds=max(0, shortest) / 2))


def provision(
    occurrence: Occurrence, decisions: host_decisions.Decisions, *, need_people: bool = True
) -> list[gateway.Participant]:
    """Make sure the occurrence's room is on the server; returns who is in it.

    A room provisioned moments ago (by any app instance, see `memo_window`) is not created
    again; when `need_people` is False nobody is asked either, and the list is empty.

    Raises:
        JoinRefused: the media server cannot be reached (503).
    """
    meeting = occurrence.meeting
    now = datetime.now(UTC)
    window = memo_window()
    if window and decisions.provisioned_since(now - window):
        if not need_people:
            return []
        try:
            return gateway.list_participants(occurrence.room_name)
        except gateway.RoomNotFound:
            pass  # closed by someone else meanwhile: create it again below
        except gateway.LiveKitError as error:
            current_app.logger.warning("listing %s failed: %s", occurrence.room_name, error)
            raise JoinRefused(503, "livekit_unavailable", UNREACHABLE) from error
    config = current_app.config
    try:
        room = gateway.ensure_room(
            occurrence.room_name,
            empty_timeout=config["LIVEKIT_EMPTY_TIMEOUT_SECONDS"],
            departure_timeout=config["LIVEKIT_DEPARTURE_TIMEOUT_SECONDS"],
            # The server's own limit is a backstop: we refuse with a clear message first.
            max_participants=meeting.max_participants or 0,
            metadata={
                "slug": meeting.slug,
                "title": meeting.title,
                "occurrence": occurrence.key,
                "host_identity": meeting.host.livekit_identity,
            },
        )
    except gateway.LiveKitError as error:
        current_app.logger.warning("provisioning %s failed: %s", occurrence.room_name, error)
        raise JoinRefused(503, "livekit_unavailable", UNREACHABLE) from error
    # An empty room that is not new may be about to close (its last person left a while
    # ago): then every join provisions it again, as before.
    made_now = room.created_at is not None and room.created_at >= now - CLOCK_SKEW
    if window and (room.occupied or made_now):
        host_decisions.remember_provisioned(meeting, occurrence.key, now)
    return room.participants
