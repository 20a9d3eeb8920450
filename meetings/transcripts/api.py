"""REST API v1: a meeting's transcripts, as JSON or as WebVTT, SRT or plain text files."""

from flask import jsonify, request

from meetings.api import bp
from meetings.api.bodies import to_iso
from meetings.errors import ApiError
from meetings.models import Transcript, TranscriptSegment
from meetings.transcripts import exports, listings
from meetings.web import managed_meeting


def segment_json(segment: TranscriptSegment) -> dict:
    return {
        "identity": segment.identity,
        "display_name": segment.display_name,
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
    }


@bp.get("/meetings/<slug>/transcripts")
def meeting_transcripts(slug: str):
    """The meeting's occurrences in which something was transcribed; hosts, co-hosts, ops."""
    meeting = managed_meeting(slug)
    items = [
        {
            "occurrence_key": summary.occurrence_key,
            "started_at": to_iso(summary.started_at),
            "language": summary.transcript.language,
            "segment_count": summary.segment_count,
            "speakers": [
                {"identity": s.identity, "display_name": s.display_name} for s in summary.speakers
            ],
        }
        for summary in listings.transcribed_occurrences(meeting)
    ]
    return jsonify({"items": items})


@bp.get("/meetings/<slug>/transcripts/<occurrence_key>")
def occurrence_transcript(slug: str, occurrence_key: str):
    """One occurrence's segments in the order they were said (`?format=vtt|srt|txt`: the
    file); hosts, co-hosts, ops."""
    meeting = managed_meeting(slug)
    file_format = request.args.get("format")
    if file_format is not None and file_format not in exports.FORMATS:
        raise ApiError(
            400,
            "invalid_field",
            "`format` is `vtt`, `srt` or `txt` (or absent for JSON).",
            "format",
        )
    transcript = listings.transcript_of(meeting, occurrence_key)
    if transcript is None:
        raise ApiError(
            404, "transcript_not_found", "This occurrence has no transcript.", "occurrence_key"
        )
    segments = listings.segments_of(transcript)
    if file_format is not None:
        return exports.download(exports.cues_of(segments), file_format, meeting, occurrence_key)
    return jsonify(transcript_json(transcript, segments))


def transcript_json(transcript: Transcript, segments: list[TranscriptSegment]) -> dict:
    return {
        "occurrence_key": transcript.occurrence_key,
        "started_at": to_iso(transcript.origin_at),
        "language": transcript.language,
        "segments": [segment_json(segment) for segment in segments],
    }
