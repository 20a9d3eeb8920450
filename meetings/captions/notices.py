"""Everyone in a room learns the state of live captions from the room's metadata
(`{"captions": "<status>"}`: off, starting, running, unavailable or failed), which late
joiners receive on connect. The pages read only this for the "Captions on" sign and the
"Captions unavailable" state.
"""

from meetings import room_notices
from meetings.models import CaptionsStatus


def announce_after_commit(room_name: str, status: CaptionsStatus) -> None:
    """Tell the room once the change that made `status` is committed (never on rollback)."""
    room_notices.announce_after_commit(room_name, "captions", status.value)
