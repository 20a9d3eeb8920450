"""Decisions about people that must reach the rooms they are in at once, not at their next
join: a co-host who lost the role, an account an operator disabled or whose password was
reset. Tokens cannot be taken back, so the server is told to change or end the session.

Best effort: the decision itself is already stored and enforced by the app (no new token,
host calls refused); a media server that cannot be reached only delays what the page shows.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from meetings import livekit_gateway as gateway
from meetings.auth import signals as account_signals
from meetings.extensions import db
from meetings.models import Attendance, Meeting, MeetingSession, User
from meetings.scheduling import recurrence as rec
from meetings.scheduling import signals as schedule_signals


def current_room(meeting: Meeting) -> str | None:
    """The room of the occurrence that may be running now, if any."""
    grace = timedelta(minutes=current_app.config["JOIN_GRACE_MINUTES"])
    occurrence = rec.current_or_next(meeting, datetime.now(UTC), grace)
    return occurrence.room_name if occurrence is not None else None


def demote(room: str, identity: str, may_publish: bool) -> None:
    """`identity` is no longer a host in `room`: the metadata every page trusts says so.

    Raises: RoomNotFound (not there), LiveKitUnavailable.
    """
    person = gateway.get_participant(room, identity)
    metadata = person.metadata | {"role": "participant"}
    speaker = bool(person.metadata.get("speaker"))
    gateway.set_publishing(room, identity, may_publish or speaker, metadata)


def demote_in_meeting(meeting: Meeting, identity: str) -> None:
    """Demote `identity` in the meeting's live room, if they are in it."""
    room = current_room(meeting)
    if room is None:
        return
    try:
        demote(room, identity, may_publish=not meeting.webinar)
    except gateway.RoomNotFound:
        return  # not in the room: their next join gets a participant's token
    except gateway.LiveKitError as error:
        current_app.logger.warning("could not demote %s in %s: %s", identity, room, error)


def rooms_with(identity: str) -> list[str]:
    """Rooms the ledger says `identity` is in now (joined, not left, session open)."""
    query = (
        sa.select(Attendance.room_name)
        .join(MeetingSession, Attendance.session_id == MeetingSession.id)
        .where(
            Attendance.identity == identity,
            Attendance.left_at.is_(None),
            MeetingSession.ended_at.is_(None),
        )
        .distinct()
    )
    return list(db.session.scalars(query))


def disconnect_everywhere(identity: str, reason: str) -> int:
    """End `identity`'s media sessions in every room they are in; returns how many ended.
    Their page is told `reason` first, so it does not say that a host removed them."""
    ended = 0
    for room in rooms_with(identity):
        try:
            gateway.send_data(
                room, {"type": "signed_out", "reason": reason}, "moderation", [identity]
            )
            gateway.remove_participant(room, identity)
            ended += 1
        except gateway.RoomNotFound:
            continue  # left meanwhile
        except gateway.LiveKitError as error:
            current_app.logger.warning("could not disconnect %s from %s: %s", identity, room, error)
    return ended


@account_signals.sessions_revoked.connect
def _end_sessions(user: User, reason: str, **_extra) -> None:
    disconnect_everywhere(user.livekit_identity, reason)


@schedule_signals.co_hosts_removed.connect
def _demote_former_co_hosts(meeting: Meeting, users: set[User], **_extra) -> None:
    for user in users:
        demote_in_meeting(meeting, user.livekit_identity)
