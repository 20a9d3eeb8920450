"""Transcript pages: one occurrence's transcript and its files, search over one's own
meetings, and the captions file of a recording's player."""

from dataclasses import dataclass
from datetime import datetime

from flask import Response, abort, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup

from meetings.extensions import db
from meetings.models import Recording
from meetings.recordings import library
from meetings.scheduling import recurrence as rec
from meetings.transcripts import bp, exports, listings, search
from meetings.web import managed_meeting_or_404

MAX_QUERY_LENGTH = 200


@bp.get("/meetings/<slug>/transcripts/<key>")
@login_required
def occurrence(slug: str, key: str):
    """What was said in one occurrence, who said it and when (`?format=vtt|srt|txt`: the
    file)."""
    meeting = managed_meeting_or_404(slug)
    transcript = listings.transcript_of(meeting, key)
    if transcript is None:
        abort(404, "This occurrence has no transcript.")
    file_format = request.args.get("format")
    if file_format is not None and file_format not in exports.FORMATS:
        abort(400, "Transcripts download as vtt, srt or txt.")
    segments = listings.segments_of(transcript)
    if file_format is not None:
        return exports.download(exports.cues_of(segments), file_format, meeting, key)
    return render_template(
        "transcripts/occurrence.html",
        meeting=meeting,
        key=key,
        scheduled=rec.occurrence_by_key(meeting, key),
        transcript=transcript,
        lines=listings.lines_of(transcript, segments),
        speakers=listings.speakers_in(segments),
    )


@bp.get("/transcripts/search")
@login_required
def search_page():
    """Full-text search over the transcripts of the meetings one hosts or co-hosts."""
    query = request.args.get("q", "")[:MAX_QUERY_LENGTH].strip()
    hits, too_short = [], False
    if query:
        try:
            hits = search.search(current_user, query)
        except search.QueryTooShort:
            too_short = True
    return render_template(
        "transcripts/search.html",
        query=query,
        results=[_result(hit, query) for hit in hits],
        too_short=too_short or ("q" in request.args and not query),
        min_chars=search.MIN_QUERY_CHARS,
        max_hits=search.MAX_HITS,
    )


@dataclass(frozen=True)
class Result:
    hit: search.Hit
    occurrence_at: datetime  # when it was scheduled, or when captions started
    line: listings.Line
    marked: Markup  # the text, escaped, with the matches in <mark>


def _result(hit: search.Hit, query: str) -> Result:
    scheduled = rec.occurrence_by_key(hit.meeting, hit.transcript.occurrence_key)
    return Result(
        hit=hit,
        occurrence_at=scheduled.starts_at if scheduled else hit.transcript.origin_at,
        line=listings.lines_of(hit.transcript, [hit.segment])[0],
        marked=search.highlight(hit.segment.text, query),
    )


@bp.get("/recordings/<int:recording_id>/captions.vtt")
@login_required
def recording_captions(recording_id: int):
    """The recording's captions (WebVTT, timed from its start): whoever may watch it."""
    recording = db.session.get(Recording, recording_id)
    if recording is None or not library.may_watch(current_user, recording):
        abort(404, "No recording of yours has this number.")
    return _captions_file(recording)


@bp.get("/recordings/shared/<token>/captions.vtt")
def shared_recording_captions(token: str):
    """The captions of a recording shared by secret link: anyone holding the link."""
    recording = library.by_share_token(token)
    if recording is None:
        abort(404, "This link is not valid or has expired.")
    return _captions_file(recording)


def _captions_file(recording: Recording) -> Response:
    captions = listings.recording_captions(recording)
    if not captions.cues:
        abort(404, "Nothing was transcribed while this recording ran.")
    response = Response(exports.webvtt(captions.cues), content_type=exports.FORMATS["vtt"][1])
    response.headers["Cache-Control"] = "private, no-cache"
    return response
