"""Signed LiveKit webhooks built the way livekit-server builds them.

Body: protobuf JSON of WebhookEvent (lowerCamelCase, int64 as strings). Header: a bare
HS256 JWT (no "Bearer ") signed with the webhook key, carrying sha256 = base64(SHA-256(body)).
"""

import base64
import hashlib
import itertools
import time
from datetime import timedelta

from google.protobuf.json_format import MessageToJson
from livekit import api
from livekit.protocol.models import ParticipantInfo, Room
from livekit.protocol.webhook import WebhookEvent

_ids = itertools.count(1)


def sign(body: str, key: str, secret: str, ttl: timedelta = timedelta(minutes=5)) -> str:
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return api.AccessToken(key, secret).with_sha256(digest).with_ttl(ttl).to_jwt()


def participant_event(
    kind: str,
    room: str,
    identity: str,
    sid: str,
    *,
    name: str = "",
    joined_at: int | None = None,
    created_at: int | None = None,
    event_id: str | None = None,
) -> WebhookEvent:
    now = int(time.time())
    return WebhookEvent(
        event=kind,
        id=event_id or f"EV_test{next(_ids):06d}",
        created_at=created_at or now,
        room=Room(name=room, sid=f"RM_{room}"),
        participant=ParticipantInfo(
            sid=sid, identity=identity, name=name, joined_at=joined_at or now
        ),
    )


def to_body(event: WebhookEvent) -> str:
    return MessageToJson(event)


def webhook_request(event: WebhookEvent, key: str, secret: str) -> tuple[str, dict[str, str]]:
    """Body and headers of one delivery, as the server would send them."""
    body = to_body(event)
    headers = {
        "Content-Type": "application/webhook+json",
        "Authorization": sign(body, key, secret),
    }
    return body, headers
