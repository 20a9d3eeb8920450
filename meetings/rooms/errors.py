"""How a join is refused: one error type whose message is meant for people."""

from meetings.errors import ApiError

UNREACHABLE = "The meeting server is not reachable right now. Try again in a moment."
# For host actions and hands: the request did not reach the room.
UNREACHABLE_NOTHING_CHANGED = "The meeting server is not reachable, so nothing changed. Try again."


class JoinRefused(ApiError):
    """Nobody gets a token for this request; the message says why, for people."""
