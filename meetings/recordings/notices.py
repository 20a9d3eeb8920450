"""Everyone in a room learns whether it is being recorded from the room's metadata
(`{"recording": true, "recording_id": ...}`), which late joiners receive on connect.
"""

import logging

import sqlalchemy as sa

from meetings import livekit_gateway as gateway
from meetings.after_commit import after_commit
from meetings.extensions import db
from meetings.models import Recording, RecordingStatus

log = logging.getLogger(__name__)


def _notice(room_name: str) -> dict:
    """What the room's metadata should say about recording now."""
    live = db.session.scalars(
        sa.select(Recording)
        .where(
            Recording.room_name == room_name,
            Recording.status.in_((RecordingStatus.STARTING, RecordingStatus.ACTIVE)),
        )
        .order_by(Recording.requested_at.desc())
    ).first()
    return {"recording": live is not None, "recording_id": live.id if live else None}


def _send_notice(room_name: str, changes: dict) -> None:
    try:
        gateway.update_room_metadata(room_name, changes)
    except gateway.RoomNotFound:
        pass  # the room is gone, and with it everyone who could see the notice
    except gateway.LiveKitError as error:
        log.warning("recording notice for %s not updated: %s", room_name, error)


def announce(room_name: str) -> None:
    """Tell everyone in the room (and whoever joins later) whether it is being recorded."""
    _send_notice(room_name, _notice(room_name))


def announce_after_commit(room_name: str) -> None:
    changes = _notice(room_name)  # the flushed, not yet committed, state
    after_commit(lambda: _send_notice(room_name, changes))
