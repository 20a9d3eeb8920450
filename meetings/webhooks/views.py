from flask import current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from meetings import livekit_gateway as gateway
from meetings.errors import json_error
from meetings.extensions import csrf
from meetings.recordings import builtin
from meetings.webhooks import apply, bp, store

MAX_WEBHOOK_BYTES = 1024 * 1024  # LiveKit's events are a few KiB


@bp.post("/livekit/webhook")
@csrf.exempt  # the signature over the raw body is this view's authentication
def receive():
    """Store a signed LiveKit event once; sessions and attendance are derived from it
    right after the answer (see apply.py).

    Refused requests (401/400/413) store nothing but a count per reason, shown to ops.
    """
    body = _raw_body()
    if body is None:
        return _refuse(413, "oversized", "payload_too_large", "The body is over 1 MiB.")
    try:
        event = gateway.verify_webhook(body, request.headers.get("Authorization"))
    except gateway.InvalidWebhook as error:
        return _refuse(401, error.reason, "invalid_signature", "The signature did not verify.")
    except gateway.MalformedWebhook:
        return _refuse(400, "not_json", "bad_payload", "The body is not a LiveKit event.")
    if not event.id or event.event not in store.KNOWN_EVENTS:
        return _refuse(400, "unknown_event", "unknown_event", "Not a LiveKit event we know.")
    stored = store.store_event(event, body)
    if stored:
        apply.after_store(event.id)
    return jsonify({"stored": stored}), 200


@bp.post("/worker/events")
@csrf.exempt  # signed like a LiveKit webhook: the signature is this view's authentication
def receive_worker_event():
    """Store a signed event of the media worker once, in the webhook ledger; what it
    changes (a recording's progress) is derived after, as for webhooks. Kinds this app does
    not know are stored and ignored (a newer worker's)."""
    body = _raw_body()
    if body is None:
        return _refuse(413, "oversized", "payload_too_large", "The body is over 1 MiB.")
    try:
        event = gateway.verify_worker_event(body, request.headers.get("Authorization"))
    except gateway.InvalidWebhook as error:
        return _refuse(401, error.reason, "invalid_signature", "The signature did not verify.")
    except gateway.MalformedWebhook:
        return _refuse(400, "not_json", "bad_payload", "The body is not a worker event.")
    if event.kind == builtin.HEARTBEAT_KIND:  # "alive": not an event for the ledger
        builtin.record_heartbeat(event)
        return jsonify({"stored": False}), 200
    stored = store.store_worker_event(event, body)
    if stored:
        apply.after_store(event.id)
    return jsonify({"stored": stored}), 200


def _raw_body() -> str | None:
    """The body exactly as sent (the signature's hash covers those bytes, never re-serialised
    JSON); None when it is over MAX_WEBHOOK_BYTES."""
    if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
        return None
    try:
        body = request.get_data(as_text=True)
    except RequestEntityTooLarge:
        return None
    return body if len(body) <= MAX_WEBHOOK_BYTES else None


def _refuse(status: int, reason: str, code: str, message: str):
    current_app.logger.warning("webhook refused (%s): %s", status, reason)
    store.count_rejection(reason)
    return json_error(status, code, message)
