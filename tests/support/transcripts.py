"""Stored transcripts, as meetings/captions leaves them after a meeting, and a small WebVTT
parser that reads the files as a strict player would."""

import html
import re
from datetime import UTC, datetime

from meetings.extensions import db
from meetings.models import Meeting, Transcript, TranscriptSegment
from meetings.scheduling import recurrence as rec


def add_transcript(
    meeting: Meeting,
    said: list[tuple[str, float, float, str]],
    *,
    origin_at: datetime | None = None,
    occurrence: int = 0,
) -> Transcript:
    """A transcript of one of the meeting's occurrences: `said` is (display name, start,
    end, text) per segment; a name's identity is `g-` and its first word, lower case."""
    scheduled = rec.occurrences(meeting)[occurrence]
    transcript = Transcript(
        meeting_id=meeting.id,
        occurrence_key=scheduled.key,
        room_name=scheduled.room_name,
        origin_at=origin_at or datetime.now(UTC),
    )
    for number, (name, start, end, text) in enumerate(said, 1):
        identity = f"g-{name.split()[0].lower()}" if name else "g-anonymous"
        transcript.segments.append(
            TranscriptSegment(
                segment_id=f"SG_{number}",
                identity=identity,
                display_name=name,
                start=start,
                end=end,
                text=text,
            )
        )
    db.session.add(transcript)
    db.session.commit()
    return transcript


# ---- WebVTT, as a player reads it ------------------------------------------------------------

TIMING = re.compile(r"^(\d{2}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2}):(\d{2}):(\d{2})\.(\d{3})$")
VOICE = re.compile(r"^<v ([^>\n]+)>([^<>]*)$")


def seconds(hours: str, minutes: str, secs: str, millis: str) -> float:
    return int(hours) * 3600 + int(minutes) * 60 + int(secs) + int(millis) / 1000


def parse_vtt(body: str) -> list[tuple[float, float, str, str]]:
    """(start, end, voice, text) per cue; fails on anything a strict reader would refuse:
    a missing header, a bad timing, a tag other than the voice span, a raw `-->` in text."""
    assert body.startswith("WEBVTT\n\n") or body == "WEBVTT\n"
    cues = []
    for block in body.split("\n\n")[1:]:
        lines = block.rstrip("\n").split("\n")
        if not TIMING.match(lines[0]):
            lines = lines[1:]  # the cue's identifier
        timing, *text = lines
        found = TIMING.match(timing)
        assert found, timing
        assert len(text) == 1, block  # one line per cue
        voice = VOICE.match(text[0])
        assert voice, text[0]  # the voice span is the only markup
        assert "-->" not in text[0]
        start, end = seconds(*found.groups()[:4]), seconds(*found.groups()[4:])
        cues.append((start, end, html.unescape(voice[1]), html.unescape(voice[2])))
    return cues
