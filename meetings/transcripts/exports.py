"""A transcript as files: WebVTT, SRT and plain text, and the WebVTT of one recording.

Times in a file count from its start: the transcript's origin for an occurrence, the
recording's start for a recording. What people said is data: in WebVTT it is escaped so
that no speech becomes markup or a cue timing, in SRT (which has no escapes) the angle
brackets that players read as tags are replaced by look-alikes.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Response

from meetings.models import Meeting, Recording, Transcript, TranscriptSegment

# A cue shorter than this would flash by; a segment's end may equal its start.
MIN_CUE_SECONDS = 0.5


@dataclass(frozen=True)
class Cue:
    """One caption: seconds from the file's start, who spoke and what they said."""

    start: float
    end: float
    speaker: str
    text: str


FORMATS = {
    # format: (file extension, content type)
    "vtt": ("vtt", "text/vtt; charset=utf-8"),
    "srt": ("srt", "application/x-subrip; charset=utf-8"),
    "txt": ("txt", "text/plain; charset=utf-8"),
}


def speaker_of(segment: TranscriptSegment) -> str:
    return _one_line(segment.display_name) or _one_line(segment.identity) or "Unknown speaker"


def cues_of(segments: Iterable[TranscriptSegment]) -> list[Cue]:
    """The segments as cues, times from the transcript's origin, ordered by start."""
    cues = [Cue(s.start, s.end, speaker_of(s), s.text) for s in segments]
    return sorted(cues, key=lambda cue: (cue.start, cue.end))


def recording_cues(
    transcript: Transcript, segments: Iterable[TranscriptSegment], recording: Recording
) -> list[Cue]:
    """The segments said while `recording` ran, shifted so that 0 is the recording's start
    and cut to its span; none for a recording that never started."""
    span = recording_span(recording)
    if span is None:
        return []
    shift = (span[0] - transcript.origin_at).total_seconds()
    length = None if span[1] is None else (span[1] - span[0]).total_seconds()
    cues = []
    for cue in cues_of(segments):
        start, end = cue.start - shift, max(cue.end, cue.start) - shift
        if end <= 0 or (length is not None and start >= length):
            continue
        end = end if length is None else min(end, length)
        cues.append(Cue(max(start, 0.0), end, cue.speaker, cue.text))
    return cues


def recording_span(recording: Recording) -> tuple[datetime, datetime | None] | None:
    """When the recording started and ended (None: still running or unknown)."""
    if recording.started_at is None:
        return None
    ended = recording.ended_at
    if ended is None and recording.duration_seconds:
        ended = recording.started_at + timedelta(seconds=recording.duration_seconds)
    return recording.started_at, ended


def render(cues: Sequence[Cue], file_format: str) -> str:
    """Raises: KeyError for a format not in FORMATS."""
    return {"vtt": webvtt, "srt": srt, "txt": plain_text}[file_format](cues)


# ---- WebVTT --------------------------------------------------------------------------------


def webvtt(cues: Sequence[Cue]) -> str:
    """`WEBVTT`, then one cue per segment: `<v Speaker>text`, both escaped."""
    blocks = ["WEBVTT"]
    for number, cue in enumerate(cues, 1):
        start, end = _cue_times(cue)
        blocks.append(
            f"{number}\n{vtt_time(start)} --> {vtt_time(end)}\n"
            f"<v {vtt_escape(_one_line(cue.speaker))}>{vtt_escape(_one_line(cue.text))}"
        )
    return "\n\n".join(blocks) + "\n"


def vtt_escape(text: str) -> str:
    """Text that a WebVTT parser reads as text: no tag, no entity, no `-->`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt_time(seconds: float) -> str:
    """HH:MM:SS.mmm"""
    hours, minutes, secs, millis = _split(seconds)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


# ---- SRT -----------------------------------------------------------------------------------

# Single angle quotation marks, which no player reads as a tag.
SRT_LOOKALIKES = str.maketrans({"<": "\u2039", ">": "\u203a"})


def srt(cues: Sequence[Cue]) -> str:
    """Numbered cues, `HH:MM:SS,mmm`, `Speaker: text` on one line."""
    blocks = []
    for number, cue in enumerate(cues, 1):
        start, end = _cue_times(cue)
        line = f"{_one_line(cue.speaker)}: {_one_line(cue.text)}".translate(SRT_LOOKALIKES)
        blocks.append(f"{number}\n{srt_time(start)} --> {srt_time(end)}\n{line}")
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def srt_time(seconds: float) -> str:
    """HH:MM:SS,mmm"""
    return vtt_time(seconds).replace(".", ",")


# ---- plain text ----------------------------------------------------------------------------


def plain_text(cues: Sequence[Cue]) -> str:
    """`[MM:SS] Speaker: text`, one line per cue (`[H:MM:SS]` past the first hour)."""
    return "".join(
        f"[{clock(cue.start)}] {_one_line(cue.speaker)}: {_one_line(cue.text)}\n" for cue in cues
    )


def clock(seconds: float) -> str:
    """MM:SS, or H:MM:SS from an hour on (whole seconds, rounded down)."""
    hours, minutes, secs, _ = _split(seconds)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


# ---- shared --------------------------------------------------------------------------------

WHITESPACE = re.compile(r"\s+")


def _one_line(text: str) -> str:
    # A blank line would end a cue; a line break inside a name would end its tag.
    return WHITESPACE.sub(" ", text).strip()


def _cue_times(cue: Cue) -> tuple[float, float]:
    start = max(cue.start, 0.0)
    return start, max(cue.end, start + MIN_CUE_SECONDS)


def _split(seconds: float) -> tuple[int, int, int, int]:
    total_millis = max(round(seconds * 1000), 0)
    total_seconds, millis = divmod(total_millis, 1000)
    minutes, secs = divmod(total_seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return hours, minutes, secs, millis


# ---- as a download -------------------------------------------------------------------------

UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def file_name(meeting: Meeting, occurrence_key: str, file_format: str) -> str:
    """`transcript-<slug>-<occurrence>.<ext>`, letters, digits, `-` and `_` only."""
    stem = UNSAFE_IN_FILE_NAME.sub("-", f"transcript-{meeting.slug}-{occurrence_key}")
    return f"{stem.strip('-')[:120]}.{FORMATS[file_format][0]}"


def download(cues: Sequence[Cue], file_format: str, meeting: Meeting, occurrence_key: str):
    """The response that saves the transcript as a file (not cached: it is personal)."""
    return Response(
        render(cues, file_format),
        content_type=FORMATS[file_format][1],
        headers={
            "Content-Disposition": (
                f'attachment; filename="{file_name(meeting, occurrence_key, file_format)}"'
            ),
            "Cache-Control": "private, no-store",
        },
    )
