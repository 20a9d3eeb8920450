"""Everyone in a room learns the state of live captions from the room's metadata
(`{"captions": "<status>"}`: off, starting, running, unavailable or failed), which late
joiners receive on connect. The pages read only this for the "Captions on" sign and the
"Captions unavailable" state.
"""

import logging

from meetings import livekit_gateway as gateway
from meetings.after_commit import after_commit
from meetings.models import CaptionsStatus

log = logging.getLogger(__name__)


def _send(room_name: str, status: CaptionsStatus) -> None:
    try:
        gateway.update_room_metadata(room_name, {"captions": status.value})
    except gateway.RoomNotFound:
        pass  # the room is gone, and with it everyone who could read the sign
    except gateway.LiveKitError as error:
        log.warning("captions notice for %s not updated: %s", room_name, error)


def announce_after_commit(room_name: str, status: CaptionsStatus) -> None:
    """Tell the room once the change that made `status` is committed (never on rollback)."""
    after_commit(lambda: _send(room_name, status))
