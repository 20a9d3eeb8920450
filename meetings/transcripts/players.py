"""Captions on a recording's player: a WebVTT track when something was said while it ran."""

from flask import url_for

from meetings.models import Recording
from meetings.recordings import signals as recording_signals
from meetings.transcripts import listings

LANGUAGE_LABELS = {
    "en": "English",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "it": "Italiano",
    "nl": "Nederlands",
    "pt": "Português",
}


@recording_signals.player_tracks.connect
def captions_track(
    recording: Recording, share_token: str | None = None, **_
) -> list[recording_signals.PlayerTrack]:
    captions = listings.recording_captions(recording)
    if not captions.cues:
        return []
    if share_token is None:
        src = url_for("transcripts.recording_captions", recording_id=recording.id)
    else:
        src = url_for("transcripts.shared_recording_captions", token=share_token)
    language = captions.language
    label = LANGUAGE_LABELS.get(language.split("-")[0].lower(), language)
    return [recording_signals.PlayerTrack(src, language, label, default=True)]
