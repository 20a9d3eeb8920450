"""What everyone in a room learns from its metadata (`{"captions": "running", "stream":
"live"}`): a feature's state, which late joiners receive on connect. Sent once the change that
made it is committed, never on rollback; a room that is gone took its readers with it."""

import logging

from meetings import livekit_gateway as gateway
from meetings.after_commit import after_commit

log = logging.getLogger(__name__)


def announce_after_commit(room_name: str, key: str, value: str) -> None:
    after_commit(lambda: _send(room_name, key, value))


def _send(room_name: str, key: str, value: str) -> None:
    try:
        gateway.update_room_metadata(room_name, {key: value})
    except gateway.RoomNotFound:
        pass  # the room is gone, and with it everyone who could read the sign
    except gateway.LiveKitError as error:
        log.warning("%s notice for %s not updated: %s", key, room_name, error)
