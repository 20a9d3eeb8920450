"""The one module that talks to LiveKit: tokens, RoomService calls and webhooks.

Public functions are synchronous for Flask views. Each RoomService call opens its own
`LiveKitAPI` client inside a fresh event loop (a client is bound to the loop it was made
in) and is bounded by `asyncio.wait_for`, because livekit-api disables its own timeouts.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import aiohttp
import jwt
from asgiref.sync import async_to_sync
from flask import current_app
from google.protobuf.json_format import ParseError
from livekit import api

T = TypeVar("T")


class LiveKitError(Exception):
    """Base class for everything the media server refused or could not answer."""


class LiveKitUnavailable(LiveKitError):
    """The media server did not answer in time, or not at all."""


class RoomNotFound(LiveKitError):
    """The room does not exist on the media server."""


class InvalidWebhook(Exception):
    """A webhook request that did not verify; `reason` names why for the rejection counter:
    "missing_header", "expired", "bad_signature" or "hash_mismatch" (the body was changed).
    """

    def __init__(self, message: str, reason: str = "bad_signature"):
        super().__init__(message)
        self.reason = reason


class MalformedWebhook(Exception):
    """A correctly signed webhook whose body is not a WebhookEvent in protobuf JSON."""


@dataclass(frozen=True)
class Settings:
    url: str
    api_key: str
    api_secret: str
    timeout: float

    @classmethod
    def from_app(cls) -> "Settings":
        config = current_app.config
        return cls(
            url=config["LIVEKIT_URL"],
            api_key=config["LIVEKIT_API_KEY"],
            api_secret=config["LIVEKIT_API_SECRET"],
            timeout=config["LIVEKIT_TIMEOUT_SECONDS"],
        )


@dataclass(frozen=True)
class MediaGrant:
    """What one person may do in one room; every permission is spelled out."""

    room: str
    identity: str
    name: str
    can_publish: bool
    can_subscribe: bool
    can_publish_data: bool
    room_admin: bool
    ttl: timedelta
    metadata: dict | None = None


@dataclass(frozen=True)
class MintedToken:
    jwt: str
    expires_at: datetime


@dataclass(frozen=True)
class Participant:
    identity: str
    name: str
    sid: str


def mint_token(grant: MediaGrant) -> MintedToken:
    """Sign a join token for exactly one room with exactly the permissions in `grant`."""
    settings = Settings.from_app()
    # VideoGrants defaults publish/subscribe/data to True, so every field is set here.
    video = api.VideoGrants(
        room_join=True,
        room=grant.room,
        can_publish=grant.can_publish,
        can_subscribe=grant.can_subscribe,
        can_publish_data=grant.can_publish_data,
        room_admin=True if grant.room_admin else None,
        # Raised hands live in the participant's own attributes, which needs this grant.
        # It also lets a participant rewrite their own name and metadata: the server must
        # never trust those for decisions (roles are checked against the database).
        can_update_own_metadata=True,
    )
    token = (
        api.AccessToken(settings.api_key, settings.api_secret)
        .with_identity(grant.identity)
        .with_name(grant.name)
        .with_grants(video)
        .with_ttl(grant.ttl)
    )
    if grant.metadata is not None:
        token = token.with_metadata(json.dumps(grant.metadata))
    expires_at = datetime.now(UTC).replace(microsecond=0) + grant.ttl
    return MintedToken(jwt=token.to_jwt(), expires_at=expires_at)


def verify_webhook(body: str, authorization: str | None) -> api.WebhookEvent:
    """Check a webhook's signature against the raw body and parse it.

    Raises:
        InvalidWebhook: missing header, bad or expired signature, hash mismatch.
        MalformedWebhook: signed correctly, but the body is not a WebhookEvent.
    """
    if not authorization:
        raise InvalidWebhook("missing Authorization header", "missing_header")
    settings = Settings.from_app()
    receiver = api.WebhookReceiver(api.TokenVerifier(settings.api_key, settings.api_secret))
    try:
        return receiver.receive(body, authorization)
    except ParseError as exc:  # the hash matched, so this is what the signer sent
        raise MalformedWebhook(str(exc) or "not a WebhookEvent") from exc
    except jwt.ExpiredSignatureError as exc:
        raise InvalidWebhook("expired signature", "expired") from exc
    except Exception as exc:  # other PyJWT errors, bare Exception("hash mismatch")
        reason = "hash_mismatch" if "hash mismatch" in str(exc) else "bad_signature"
        raise InvalidWebhook(str(exc) or type(exc).__name__, reason) from exc


def provision_room(
    name: str,
    *,
    empty_timeout: int,
    departure_timeout: int,
    max_participants: int = 0,
    metadata: dict | None = None,
) -> list[Participant]:
    """Create the room if needed (an existing room is left as it is) and say who is in it,
    in one client session.

    Raises:
        LiveKitUnavailable: the server did not answer.
    """
    request = api.CreateRoomRequest(
        name=name,
        empty_timeout=empty_timeout,
        departure_timeout=departure_timeout,
        max_participants=max_participants,
        metadata=json.dumps(metadata or {}),
    )

    async def create_and_list(lk: api.LiveKitAPI):
        await lk.room.create_room(request)
        return await lk.room.list_participants(api.ListParticipantsRequest(room=name))

    response = _call(create_and_list)
    return [Participant(p.identity, p.name, p.sid) for p in response.participants]


@dataclass(frozen=True)
class LiveRoom:
    name: str
    metadata: dict
    max_participants: int
    num_participants: int
    sid: str = ""
    created_at: datetime | None = None
    num_publishers: int = 0


def list_rooms() -> list[LiveRoom]:
    """The rooms live on the server with their metadata.

    Raises:
        LiveKitUnavailable: the server did not answer.
    """
    response = _call(lambda lk: lk.room.list_rooms(api.ListRoomsRequest()))
    return [
        LiveRoom(
            name=room.name,
            metadata=_json_object(room.metadata),
            max_participants=room.max_participants,
            num_participants=room.num_participants,
            sid=room.sid,
            created_at=_room_created_at(room),
            num_publishers=room.num_publishers,
        )
        for room in response.rooms
    ]


def _json_object(raw: str) -> dict:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}  # a room someone else made with other metadata
    return value if isinstance(value, dict) else {}


def _room_created_at(room: api.Room) -> datetime | None:
    if room.creation_time_ms:
        return datetime.fromtimestamp(room.creation_time_ms / 1000, UTC)
    return datetime.fromtimestamp(room.creation_time, UTC) if room.creation_time else None


def list_participants(room: str) -> list[Participant]:
    """Who is in the room right now, according to the server.

    Raises:
        RoomNotFound: no such room on the server.
        LiveKitUnavailable: the server did not answer.
    """
    request = api.ListParticipantsRequest(room=room)
    response = _call(lambda lk: lk.room.list_participants(request))
    return [Participant(p.identity, p.name, p.sid) for p in response.participants]


def list_room_names() -> list[str]:
    """Names of the rooms live on the server.

    Raises:
        LiveKitUnavailable: the server did not answer.
    """
    return [room.name for room in list_rooms()]


def is_reachable() -> bool:
    """True when the server answers an authenticated RoomService call."""
    try:
        list_room_names()
    except LiveKitError:
        return False
    return True


def _call(operation: Callable[[api.LiveKitAPI], Awaitable[T]]) -> T:
    return async_to_sync(_run)(Settings.from_app(), operation)


async def _run(settings: Settings, operation: Callable[[api.LiveKitAPI], Awaitable[T]]) -> T:
    try:
        async with api.LiveKitAPI(settings.url, settings.api_key, settings.api_secret) as lk:
            return await asyncio.wait_for(operation(lk), settings.timeout)
    except api.TwirpError as exc:
        if exc.code == "not_found":
            raise RoomNotFound(exc.message) from exc
        raise LiveKitUnavailable(f"{exc.code}: {exc.message}") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise LiveKitUnavailable(str(exc) or type(exc).__name__) from exc


# ---- moderation ---------------------------------------------------------------------------

TRACK_SOURCES = {
    api.TrackSource.CAMERA: "camera",
    api.TrackSource.MICROPHONE: "microphone",
    api.TrackSource.SCREEN_SHARE: "screen_share",
    api.TrackSource.SCREEN_SHARE_AUDIO: "screen_share_audio",
}


@dataclass(frozen=True)
class PublishedTrack:
    sid: str
    source: str  # "microphone", "camera", "screen_share", "screen_share_audio" or "unknown"
    muted: bool


@dataclass(frozen=True)
class LiveParticipant:
    """One person in a room as the server sees them: metadata, permission and tracks."""

    identity: str
    name: str
    metadata: dict
    can_publish: bool
    tracks: tuple[PublishedTrack, ...]

    def track(self, source: str) -> PublishedTrack | None:
        return next((track for track in self.tracks if track.source == source), None)


def _live_participant(info: api.ParticipantInfo) -> LiveParticipant:
    try:
        metadata = json.loads(info.metadata) if info.metadata else {}
    except ValueError:
        metadata = {}
    tracks = tuple(
        PublishedTrack(track.sid, TRACK_SOURCES.get(track.source, "unknown"), track.muted)
        for track in info.tracks
    )
    return LiveParticipant(info.identity, info.name, metadata, info.permission.can_publish, tracks)


def get_participant(room: str, identity: str) -> LiveParticipant:
    """Raises: RoomNotFound (no such room or person), LiveKitUnavailable."""
    request = api.RoomParticipantIdentity(room=room, identity=identity)
    return _live_participant(_call(lambda lk: lk.room.get_participant(request)))


def list_live_participants(room: str) -> list[LiveParticipant]:
    """Raises: RoomNotFound, LiveKitUnavailable."""
    request = api.ListParticipantsRequest(room=room)
    response = _call(lambda lk: lk.room.list_participants(request))
    return [_live_participant(info) for info in response.participants]


def mute_track(room: str, identity: str, track_sid: str) -> None:
    """Mute one published track on the server; the publisher cannot send it muted.

    Raises: RoomNotFound, LiveKitUnavailable.
    """
    request = api.MuteRoomTrackRequest(
        room=room, identity=identity, track_sid=track_sid, muted=True
    )
    _call(lambda lk: lk.room.mute_published_track(request))


def remove_participant(room: str, identity: str) -> None:
    """Raises: RoomNotFound, LiveKitUnavailable."""
    request = api.RoomParticipantIdentity(room=room, identity=identity)
    _call(lambda lk: lk.room.remove_participant(request))


def set_publishing(room: str, identity: str, can_publish: bool, metadata: dict) -> None:
    """Let a participant publish (or not) from now on, without a rejoin.

    The whole permission is sent because UpdateParticipant replaces it; the other
    fields keep what the participant had.

    Raises: RoomNotFound, LiveKitUnavailable.
    """

    async def update(lk: api.LiveKitAPI):
        current = await lk.room.get_participant(
            api.RoomParticipantIdentity(room=room, identity=identity)
        )
        permission = api.ParticipantPermission()
        permission.CopyFrom(current.permission)
        permission.can_publish = can_publish
        request = api.UpdateParticipantRequest(
            room=room, identity=identity, permission=permission, metadata=json.dumps(metadata)
        )
        return await lk.room.update_participant(request)

    _call(update)


def set_metadata(room: str, identity: str, metadata: dict) -> None:
    """Raises: RoomNotFound, LiveKitUnavailable."""
    request = api.UpdateParticipantRequest(
        room=room, identity=identity, metadata=json.dumps(metadata)
    )
    _call(lambda lk: lk.room.update_participant(request))


def send_data(room: str, payload: dict, topic: str, identities: list[str]) -> None:
    """A reliable data message from the server to some participants.

    Raises: RoomNotFound, LiveKitUnavailable.
    """
    request = api.SendDataRequest(
        room=room,
        data=json.dumps(payload).encode(),
        kind=api.DataPacket.Kind.RELIABLE,
        destination_identities=identities,
        topic=topic,
    )
    _call(lambda lk: lk.room.send_data(request))


def delete_room(room: str) -> None:
    """Close the room for everyone in it.

    Raises: RoomNotFound, LiveKitUnavailable.
    """
    request = api.DeleteRoomRequest(room=room)
    _call(lambda lk: lk.room.delete_room(request))
