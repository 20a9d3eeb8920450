from flask import current_app, jsonify, request

from meetings import livekit_gateway as gateway
from meetings.errors import json_error
from meetings.extensions import csrf
from meetings.webhooks import bp, services


@bp.post("/livekit/webhook")
@csrf.exempt  # the signature over the raw body is this view's authentication
def receive():
    """Store a signed LiveKit event once and derive attendance from it."""
    # The hash covers the exact bytes sent: read them raw, never re-serialised JSON.
    body = request.get_data(as_text=True)
    try:
        event = gateway.verify_webhook(body, request.headers.get("Authorization"))
    except gateway.InvalidWebhook as error:
        current_app.logger.warning("webhook refused: %s", error)
        return json_error(401, "invalid_signature", "The webhook signature did not verify.")
    stored = services.record_event(event, body)
    return jsonify({"stored": stored}), 200
