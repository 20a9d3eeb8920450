"""REST API v1 of streaming. Stream out: the meeting's hosts start and stop sending the running
occurrence to RTMP destinations and the watch page, and read each output's state. Stream in:
they make ingests and get an RTMP URL and stream key (the key this once), list them with
their state, and revoke them."""

import sqlalchemy as sa
from flask import jsonify
from pydantic import Field, StrictBool, StrictStr

from meetings.api import bp
from meetings.api.bodies import Body, parse_body
from meetings.extensions import db
from meetings.links import public_url
from meetings.models import LiveStream, Meeting
from meetings.streaming import ingest_jobs, ingests, streams
from meetings.web import current_actor, meeting_or_404, require_user


class NewIngestBody(Body):
    name: StrictStr


class NewStreamBody(Body):
    rtmp_urls: list[StrictStr] = Field(default_factory=list)
    hls: StrictBool = False
    layout: StrictStr = "grid"


def _hosts_meeting(slug: str, action: str):
    """The meeting, once the caller is known to be one of its hosts."""
    user = require_user()
    meeting = meeting_or_404(slug)
    # Who may ask is checked before the body: others learn nothing about it.
    ingests.check_host(meeting, user, current_actor(), action)
    return meeting, user


@bp.get("/meetings/<slug>/ingests")
def list_ingests(slug: str):
    """The meeting's ingests, with their state (never their keys)."""
    meeting, _ = _hosts_meeting(slug, "ingests_listed")
    return jsonify({"ingests": [ingests.ingest_json(i) for i in ingests.active_ingests(meeting)]})


@bp.post("/meetings/<slug>/ingests")
def create_ingest(slug: str):
    """Make an ingest; its stream key is in this answer only."""
    meeting, user = _hosts_meeting(slug, "ingest_created")
    body = parse_body(NewIngestBody)
    made = ingests.create(meeting, user, current_actor(), body.name)
    ingest_jobs.start_if_running(meeting, made.ingest)
    return jsonify(ingests.ingest_json(made.ingest, made.stream_key)), 201


@bp.delete("/meetings/<slug>/ingests/<ingest_id>")
def revoke_ingest(slug: str, ingest_id: str):
    """Revoke an ingest: its key stops working and a running stream leaves the meeting."""
    meeting, _ = _hosts_meeting(slug, "ingest_revoked")
    ingests.revoke(meeting, ingests.find(meeting, ingest_id), current_actor())
    return "", 204


# ---- stream out -------------------------------------------------------------------------------


@bp.post("/meetings/<slug>/streams")
def start_stream(slug: str):
    """Stream the running occurrence to RTMP destinations and/or the watch page."""
    meeting, user = _hosts_meeting(slug, "stream_started")
    body = parse_body(NewStreamBody)
    row = streams.start(meeting, user, current_actor(), body.rtmp_urls, body.hls, body.layout)
    return jsonify({"stream": stream_json(meeting, row)}), 201


@bp.delete("/meetings/<slug>/streams")
def stop_stream(slug: str):
    """Stop the running occurrence's stream; every output ends."""
    meeting, _ = _hosts_meeting(slug, "stream_stopped")
    row = streams.stop(meeting, current_actor())
    return jsonify({"stream": stream_json(meeting, row)})


@bp.get("/meetings/<slug>/streams")
def list_streams(slug: str):
    """The meeting's streams, latest first (the last 20), with each output's state."""
    meeting, _ = _hosts_meeting(slug, "streams_listed")
    rows = db.session.scalars(
        sa.select(LiveStream)
        .where(LiveStream.meeting_id == meeting.id)
        .order_by(LiveStream.id.desc())
        .limit(20)
    )
    return jsonify({"streams": [stream_json(meeting, row) for row in rows]})


def stream_json(meeting: Meeting, row: LiveStream) -> dict:
    return {
        "stream_id": row.id,
        "occurrence_key": row.occurrence_key,
        "status": row.status.value,
        "reason": row.reason or "",
        "layout": row.layout,
        "started_at": row.started_at.isoformat(),
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "watch_url": public_url("streaming.watch", slug=meeting.slug) if row.hls else None,
        "outputs": [
            {
                "output_id": o.output_id,
                "kind": o.kind,
                "destination": o.destination_hint if o.kind == "rtmp" else None,
                "status": o.status.value,
                "reason": o.reason or "",
            }
            for o in row.outputs
        ],
    }
