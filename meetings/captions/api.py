"""REST API v1: live captions. The meeting's hosts turn them on or off in the running
occurrence; everyone in the room learns it from the room's metadata."""

from flask import jsonify, request
from pydantic import StrictBool

from meetings.api import bp
from meetings.api.bodies import Body, parse_body
from meetings.captions import lifecycle
from meetings.captions.state import captions_json
from meetings.web import current_actor, meeting_or_404, require_user


class CaptionsSwitch(Body):
    enabled: StrictBool


@bp.post("/meetings/<slug>/captions")
def set_captions(slug: str):
    """Turn live captions on or off in the running occurrence (the meeting's hosts)."""
    user = require_user()
    meeting = meeting_or_404(slug)
    actor = current_actor()
    # Who may ask is checked before the body: others learn nothing about it.
    lifecycle.check_host(meeting, user, actor, _action_asked())
    switch = parse_body(CaptionsSwitch)
    try:
        if switch.enabled:
            row = lifecycle.turn_on(meeting, user, actor)
        else:
            row = lifecycle.turn_off(meeting, user, actor)
    except lifecycle.CaptionsRefused as refused:
        if refused.transcript is None:
            raise
        error = {"code": refused.code, "message": refused.message}
        return jsonify({"error": error, "captions": captions_json(refused.transcript)}), (
            refused.status
        )
    return jsonify({"captions": captions_json(row)})


def _action_asked() -> str:
    """The audit log's name for what the body asks (before it is validated)."""
    body = request.get_json(silent=True)
    return (
        "captions_off" if isinstance(body, dict) and body.get("enabled") is False else "captions_on"
    )
