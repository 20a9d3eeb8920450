"""What the recordings pages ask the features above them, without importing them."""

from dataclasses import dataclass

from blinker import Namespace

from meetings.models import Recording

_signals = Namespace()

# A recording's player is about to be drawn (sender: the Recording; share_token=... on the
# secret-link page, None on the recording's own page). Receivers answer a list of
# PlayerTrack, or None (transcripts answer the captions of what was said).
player_tracks = _signals.signal("player-tracks")


@dataclass(frozen=True)
class PlayerTrack:
    """One `<track>` of the player: a WebVTT file the browser fetches from `src`."""

    src: str
    srclang: str
    label: str
    kind: str = "captions"
    default: bool = False


def tracks_for(recording: Recording, share_token: str | None = None) -> list[PlayerTrack]:
    """The text tracks the features above offer for this recording's player."""
    answers = player_tracks.send(recording, share_token=share_token)
    return [track for _, tracks in answers for track in tracks or ()]
