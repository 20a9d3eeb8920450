"""How a join is refused: one error type whose message is meant for people."""

from meetings.errors import ApiError

UNREACHABLE = "The meeting server is not reachable right now. Try again in a moment."


class JoinRefused(ApiError):
    """Nobody gets a token for this request; the message says why, for people."""
