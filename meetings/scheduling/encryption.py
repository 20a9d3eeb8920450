"""End-to-end encrypted meetings: what the server can no longer do for them.

The key is made by the host's browser and travels only in the join link's fragment
(`/m/<slug>#key=...`), which browsers never send in a request: the app, its database and its
logs never see it. Media and chat reach the server encrypted, so every job that needs to
see or hear the meeting (recording, live captions, streaming) is refused with one code.
"""

from meetings.errors import ApiError
from meetings.models import Meeting

CODE = "e2ee_meeting"

REASON = (
    "This meeting is end-to-end encrypted: the server cannot see or hear it, so it cannot "
    "{what}. A host can turn encryption off in the meeting's settings."
)


def refuse_server_media(meeting: Meeting, what: str, refused: type[ApiError] = ApiError) -> None:
    """`what` is the job as a verb phrase ("record it", "caption it", "stream it").

    Raises: `refused` (an ApiError class) 409 `e2ee_meeting` for an encrypted meeting.
    """
    if meeting.e2ee:
        raise refused(409, CODE, REASON.format(what=what))
