"""REST API v1: ingests (stream in). The meeting's hosts make one and get its RTMP URL and
stream key (the key this once), list them with their state, and revoke them."""

from flask import jsonify
from pydantic import StrictStr

from meetings.api import bp
from meetings.api.bodies import Body, parse_body
from meetings.streaming import ingest_jobs, ingests
from meetings.web import current_actor, meeting_or_404, require_user


class NewIngestBody(Body):
    name: StrictStr


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
