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
from livekit.protocol.egress import EgressInfo, EgressStatus
from livekit.protocol.models import ParticipantInfo, Room, TrackInfo, TrackSource, TrackType
from livekit.protocol.webhook import WebhookEvent

_ids = itertools.count(1)


def sign(body: str, key: str, secret: str, ttl: timedelta = timedelta(minutes=5)) -> str:
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return api.AccessToken(key, secret).with_sha256(digest).with_ttl(ttl).to_jwt()


def _event_id(event_id: str | None) -> str:
    return event_id or f"EV_test{next(_ids):06d}"


def _room(name: str, sid: str | None, creation_time: int | None) -> Room:
    room = Room(name=name, sid=sid or f"RM_{name}")
    if creation_time:
        room.creation_time = creation_time
        room.creation_time_ms = creation_time * 1000
    return room


def room_event(
    kind: str,
    room: str,
    *,
    sid: str | None = None,
    creation_time: int | None = None,
    created_at: int | None = None,
    event_id: str | None = None,
) -> WebhookEvent:
    """room_started or room_finished."""
    now = int(time.time())
    return WebhookEvent(
        event=kind,
        id=_event_id(event_id),
        created_at=created_at or now,
        room=_room(room, sid, creation_time or created_at or now),
    )


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
    room_sid: str | None = None,
    creation_time: int | None = None,
) -> WebhookEvent:
    """participant_joined, participant_left or participant_connection_aborted."""
    now = int(time.time())
    return WebhookEvent(
        event=kind,
        id=_event_id(event_id),
        created_at=created_at or now,
        room=_room(room, room_sid, creation_time),
        participant=ParticipantInfo(
            sid=sid, identity=identity, name=name, joined_at=joined_at or now
        ),
    )


def track_event(
    kind: str,
    room: str,
    identity: str,
    participant_sid: str,
    track_sid: str,
    *,
    track_type: str = "AUDIO",
    source: str = "MICROPHONE",
    created_at: int | None = None,
    event_id: str | None = None,
    room_sid: str | None = None,
) -> WebhookEvent:
    """track_published or track_unpublished (these carry the room without its times)."""
    return WebhookEvent(
        event=kind,
        id=_event_id(event_id),
        created_at=created_at or int(time.time()),
        room=Room(name=room, sid=room_sid or f"RM_{room}"),
        participant=ParticipantInfo(sid=participant_sid, identity=identity),
        track=TrackInfo(
            sid=track_sid, type=TrackType.Value(track_type), source=TrackSource.Value(source)
        ),
    )


def egress_event(
    kind: str,
    room: str,
    egress_id: str,
    *,
    status: str = "EGRESS_ACTIVE",
    created_at: int | None = None,
    event_id: str | None = None,
    room_sid: str | None = None,
) -> WebhookEvent:
    """egress_started, egress_updated or egress_ended: no `room`, only the egress info."""
    return WebhookEvent(
        event=kind,
        id=_event_id(event_id),
        created_at=created_at or int(time.time()),
        egress_info=EgressInfo(
            egress_id=egress_id,
            room_name=room,
            room_id=room_sid or f"RM_{room}",
            status=EgressStatus.Value(status),
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
