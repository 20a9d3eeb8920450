"""The watch page `/w/<slug>`: the meeting's audience watches its stream (HLS the media worker
writes) without joining the room, so the room's capacity never limits them.

It follows the meeting's access rule (anyone with the link, signed-in people, or invited
addresses; hosts always), as the meeting link does, and shows "starting soon", "live" or
"ended" with the number of people watching. The page asks `/w/<slug>/state` every few
seconds; that is also how viewers are counted (seen in the last VIEWER_SECONDS). The HLS
files are served only to those the page is for: the playlist is never cached, segments are
private to the browser, and no other origin may read them (no CORS header).
"""

import re
import secrets
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    session,
    url_for,
)
from sqlalchemy.exc import IntegrityError

from meetings.extensions import db
from meetings.models import LiveStream, Meeting, OutputStatus, StreamOutput, StreamViewer, utcnow
from meetings.scheduling.access import NotForYou, check_audience, may_see_details
from meetings.scheduling.window import Phase, window
from meetings.streaming import bp
from meetings.web import signed_in_user

VIEWER_SECONDS = 30
SEEN_AGAIN_SECONDS = 10  # a viewer's row is written at most this often
HLS_FILE = re.compile(r"^(index\.m3u8|seg_\d{1,9}\.ts)$")


def _meeting_for_viewer(slug: str) -> tuple[Meeting, str | None]:
    """The meeting, and why this person may not watch it (None: they may)."""
    meeting = Meeting.by_slug(slug)
    if meeting is None:
        abort(404, "This watch link is not valid. Check it with the person who sent it.")
    try:
        check_audience(meeting, signed_in_user())
    except NotForYou as refusal:
        return meeting, refusal.code
    return meeting, None


def _hls_stream(meeting: Meeting) -> LiveStream | None:
    """The meeting's latest stream that was sent to the watch page (one indexed query: every
    viewer's page asks for the state every few seconds)."""
    return db.session.scalar(
        sa.select(LiveStream)
        .join(StreamOutput)
        .where(LiveStream.meeting_id == meeting.id, StreamOutput.kind == "hls")
        .order_by(LiveStream.id.desc())
        .limit(1)
    )


def watch_state(meeting: Meeting, viewer_asks: bool = False) -> dict:
    """{state: soon | live | ended, playlist, viewers, starts_at, running}. `viewer_asks`:
    the question is a viewer's page polling, which counts them from their first look."""
    row = _hls_stream(meeting)
    schedule = window(meeting)
    state = {"state": "soon", "playlist": None, "viewers": 0, "starts_at": None}
    state["running"] = schedule.phase == Phase.OPEN
    if schedule.occurrence is not None:
        state["starts_at"] = schedule.occurrence.starts_at.isoformat()
    if row is None:
        return state
    if row.status.is_on and row.hls.status == OutputStatus.LIVE:
        if viewer_asks:
            _seen(row)
        playlist = url_for(
            "streaming.hls_file", slug=meeting.slug, job_id=row.job_id, name="index.m3u8"
        )
        return state | {"state": "live", "playlist": playlist, "viewers": _viewers(row)}
    current = schedule.occurrence is not None and schedule.occurrence.key == row.occurrence_key
    if not row.status.is_on and current:
        return state | {"state": "ended"}
    return state


@bp.get("/w/<slug>")
def watch(slug: str):
    meeting, refused = _meeting_for_viewer(slug)
    user = signed_in_user()
    return render_template(
        "streaming/watch.html",
        meeting=meeting,
        refused=refused,
        user=user,
        show_details=may_see_details(meeting, user),
        state=None if refused else watch_state(meeting),
        page_data={"stateUrl": url_for("streaming.watch_state_json", slug=meeting.slug)},
    ), (200 if refused is None else 403 if refused != "sign_in_required" else 401)


@bp.get("/w/<slug>/state")
def watch_state_json(slug: str):
    meeting, refused = _meeting_for_viewer(slug)
    if refused:
        abort(403)
    response = jsonify(watch_state(meeting, viewer_asks=True))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/w/<slug>/hls/<job_id>/<name>")
def hls_file(slug: str, job_id: str, name: str):
    meeting, refused = _meeting_for_viewer(slug)
    row = db.session.scalar(sa.select(LiveStream).where(LiveStream.job_id == job_id))
    if refused or row is None or row.meeting_id != meeting.id or not HLS_FILE.match(name):
        abort(404)
    path = Path(current_app.config["STREAMS_DIR"]) / row.job_id / name
    try:
        body = path.read_bytes()  # a playlist or a 2 s segment: small, read whole
    except OSError:
        abort(404)
    playlist = name.endswith(".m3u8")
    response = Response(
        body, mimetype="application/vnd.apple.mpegurl" if playlist else "video/mp2t"
    )
    # The playlist changes every segment; a segment never changes, but only this viewer may
    # keep it (no shared cache: the meeting may be for invited people only).
    response.headers["Cache-Control"] = "no-cache" if playlist else "private, max-age=3600"
    return response


def _seen(row: LiveStream) -> None:
    key = session.setdefault("viewer", secrets.token_hex(16))
    now = utcnow()
    viewer = db.session.scalar(
        sa.select(StreamViewer).where(
            StreamViewer.stream_id == row.id, StreamViewer.viewer_key == key
        )
    )
    if viewer is not None and now - viewer.last_seen < timedelta(seconds=SEEN_AGAIN_SECONDS):
        return
    if viewer is None:
        viewer = StreamViewer(stream_id=row.id, viewer_key=key)
        db.session.add(viewer)
    viewer.last_seen = now
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # the same viewer's other tab, a moment ago


def _viewers(row: LiveStream) -> int:
    since = utcnow() - timedelta(seconds=VIEWER_SECONDS)
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(StreamViewer)
        .where(StreamViewer.stream_id == row.id, StreamViewer.last_seen >= since)
    )
