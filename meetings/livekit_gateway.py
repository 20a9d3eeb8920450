"""The one module that talks to LiveKit: tokens, RoomService calls, egress and webhooks.

Longer than the ~350 lines other modules keep to, on purpose: it is the one place that
imports livekit.api / livekit.protocol (lint-imports enforces it), so every LiveKit type and
call is translated here into our own small dataclasses and errors, and nowhere else.

Public functions are synchronous for Flask views. Each RoomService call opens its own
`LiveKitAPI` client inside a fresh event loop (a client is bound to the loop it was made
in) and is bounded by `asyncio.wait_for`, because livekit-api disables its own timeouts.
"""

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import aiohttp
import jwt
from asgiref.sync import async_to_sync
from flask import current_app
from google.protobuf.json_format import Parse, ParseError
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
    """What one person may do in one room; every permission is spelled out. There is no
    admin, record, create or list grant: tokens go to browsers, and every host action goes
    through the app, which checks and audits it."""

    room: str
    identity: str
    name: str
    can_publish: bool
    can_subscribe: bool
    can_publish_data: bool
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
    # An agent (the media worker's recorder or captions) or an egress recorder: not a person.
    is_worker: bool = False


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
        # Off: names, metadata (the role) and attributes (a raised hand) are written by the
        # app through RoomService, so every page can trust what it reads there.
        can_update_own_metadata=False,
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


# A webhook event as the server sends it (protobuf); the webhooks feature annotates with it.
WebhookEvent = api.WebhookEvent


def parse_webhook_json(payload: str) -> api.WebhookEvent:
    """A stored webhook body, parsed again (fields a newer server adds are ignored)."""
    return Parse(payload, api.WebhookEvent(), ignore_unknown_fields=True)


def is_worker_participant(info: api.ParticipantInfo) -> bool:
    """An agent (the media worker's jobs) or an egress recorder: not a person in the room."""
    return info.kind in DEPENDENT_KINDS


def track_kind_and_source(track: api.TrackInfo) -> tuple[str, str]:
    """("audio" | "video" | "data", "camera" | "microphone" | ... | "unknown")."""
    return api.TrackType.Name(track.type).lower(), api.TrackSource.Name(track.source).lower()


def verify_webhook(body: str, authorization: str | None) -> api.WebhookEvent:
    """Check a webhook's signature against the raw body and parse it.

    Raises:
        InvalidWebhook: missing header, bad or expired signature, hash mismatch.
        MalformedWebhook: signed correctly, but the body is not a WebhookEvent.
    """
    verify_signed_body(body, authorization)
    try:
        return parse_webhook_json(body)
    except ParseError as exc:  # the hash matched, so this is what the signer sent
        raise MalformedWebhook(str(exc) or "not a WebhookEvent") from exc


def verify_signed_body(body: str, authorization: str | None) -> None:
    """Check a body signed as livekit-server signs webhooks: a bare HS256 JWT from our API
    key and secret whose `sha256` claim is base64(SHA-256(body)). The media worker signs
    its events the same way.

    Raises:
        InvalidWebhook: missing header, bad or expired signature, hash mismatch.
    """
    if not authorization:
        raise InvalidWebhook("missing Authorization header", "missing_header")
    settings = Settings.from_app()
    try:
        claims = api.TokenVerifier(settings.api_key, settings.api_secret).verify(authorization)
    except jwt.ExpiredSignatureError as exc:
        raise InvalidWebhook("expired signature", "expired") from exc
    except Exception as exc:  # other PyJWT errors
        raise InvalidWebhook(str(exc) or type(exc).__name__) from exc
    if not claims.sha256:
        raise InvalidWebhook("sha256 was not found in the token")
    try:
        claimed = base64.b64decode(claims.sha256)
    except ValueError as exc:
        raise InvalidWebhook("sha256 claim is not base64") from exc
    if not hmac.compare_digest(hashlib.sha256(body.encode()).digest(), claimed):
        raise InvalidWebhook("hash mismatch", "hash_mismatch")


@dataclass(frozen=True)
class WorkerEvent:
    """One event of the media worker (meetings/worker/reporting.py): what happened to a job."""

    id: str
    kind: str  # "recording_started", "recording_progress", "recording_ended", ...
    job_id: str  # the app's job id from the dispatch metadata; "" for the worker's own
    room: str  # "" for the worker's own (heartbeats)
    at: datetime | None
    data: dict


def parse_worker_event_json(body: str) -> WorkerEvent:
    """A worker event's JSON envelope {id, kind, job_id, room, at, data}.

    Raises: MalformedWebhook when it is not one.
    """
    try:
        envelope = json.loads(body)
    except ValueError as exc:
        raise MalformedWebhook(f"not JSON: {exc}") from exc
    if not isinstance(envelope, dict):
        raise MalformedWebhook("not a JSON object")
    event_id, kind = envelope.get("id"), envelope.get("kind")
    job_id, room = envelope.get("job_id") or "", envelope.get("room") or ""
    at, data = envelope.get("at"), envelope.get("data")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 64:
        raise MalformedWebhook("no event id")
    if not isinstance(kind, str) or not kind or len(kind) > 48:
        raise MalformedWebhook("no event kind")
    if not isinstance(job_id, str) or not isinstance(room, str):
        raise MalformedWebhook("job_id and room must be strings")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MalformedWebhook("data must be an object")
    if at is not None and (isinstance(at, bool) or not isinstance(at, int | float)):
        raise MalformedWebhook("at must be seconds since the epoch")
    try:
        when = datetime.fromtimestamp(at, UTC) if at else None
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedWebhook("at is out of range") from exc
    return WorkerEvent(event_id, kind, job_id[:64], room[:128], when, data)


def verify_worker_event(body: str, authorization: str | None) -> WorkerEvent:
    """Check a media worker event's signature (as a webhook's) and parse it.

    Raises:
        InvalidWebhook: missing header, bad or expired signature, hash mismatch.
        MalformedWebhook: signed correctly, but not a worker event.
    """
    verify_signed_body(body, authorization)
    return parse_worker_event_json(body)


@dataclass(frozen=True)
class ProvisionedRoom:
    """The room as CreateRoom left it: who is in it and when the server created it."""

    participants: list[Participant]
    created_at: datetime | None
    # Someone who keeps the room open is in it: not only an egress recorder or an agent,
    # which the server does not count when it closes an empty room.
    occupied: bool


# Participants the server does not count as keeping a room open (IsDependent in livekit-server).
DEPENDENT_KINDS = (api.ParticipantInfo.Kind.EGRESS, api.ParticipantInfo.Kind.AGENT)


def ensure_room(
    name: str,
    *,
    empty_timeout: int,
    departure_timeout: int,
    max_participants: int = 0,
    metadata: dict | None = None,
) -> ProvisionedRoom:
    """Create the room if needed (an existing room is left as it is) and say who is in it
    and when it was created, in one client session.

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
        room = await lk.room.create_room(request)
        listed = await lk.room.list_participants(api.ListParticipantsRequest(room=name))
        return room, listed

    room, listed = _call(create_and_list)
    return ProvisionedRoom(
        participants=[Participant(p.identity, p.name, p.sid) for p in listed.participants],
        created_at=_room_created_at(room),
        occupied=any(p.kind not in DEPENDENT_KINDS for p in listed.participants),
    )


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
    return [
        Participant(p.identity, p.name, p.sid, p.kind in DEPENDENT_KINDS)
        for p in response.participants
    ]


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


# ---- recording (Egress) and room metadata ---------------------------------------------------


@dataclass(frozen=True)
class S3Target:
    """An S3-compatible bucket the egress worker uploads to; credentials come from config."""

    bucket: str
    region: str
    endpoint: str
    force_path_style: bool
    access_key: str
    secret: str


@dataclass(frozen=True)
class FileTarget:
    """Where the egress worker writes the file: a path it sees, or a key in `s3`."""

    filepath: str
    audio_only: bool = False
    s3: S3Target | None = None


@dataclass(frozen=True)
class EgressFile:
    filename: str
    location: str
    size: int
    duration_seconds: float


@dataclass(frozen=True)
class Egress:
    """An egress job as the server reports it (a StartEgress answer, ListEgress or a webhook)."""

    egress_id: str
    room_name: str
    status: str  # "starting", "active", "ending", "complete", "failed", "aborted", "limit_reached"
    error: str
    started_at: datetime | None
    ended_at: datetime | None
    updated_ns: int
    files: tuple[EgressFile, ...]
    layout: str
    audio_only: bool
    # A stream's outputs (RoomCompositeEgress with stream and segment outputs): each RTMP
    # destination in the order asked, and how many HLS segments were written.
    streams: tuple["EgressStream", ...] = ()
    segment_count: int = 0


@dataclass(frozen=True)
class EgressStream:
    """One RTMP destination of an egress, as the server reports it (its key redacted)."""

    url: str
    status: str  # "active", "finished" or "failed"
    error: str


def _from_ns(nanoseconds: int) -> datetime | None:
    return datetime.fromtimestamp(nanoseconds / 1e9, UTC) if nanoseconds else None


def egress_from_info(info: api.EgressInfo) -> Egress:
    """Our view of an EgressInfo: status names without the `EGRESS_` prefix, times in UTC."""
    name = api.EgressStatus.Name(info.status)
    return Egress(
        egress_id=info.egress_id,
        room_name=info.room_name,
        status=name.removeprefix("EGRESS_").lower(),
        error=info.error,
        started_at=_from_ns(info.started_at),
        ended_at=_from_ns(info.ended_at),
        updated_ns=info.updated_at,
        files=tuple(
            EgressFile(f.filename, f.location, f.size, f.duration / 1e9) for f in info.file_results
        ),
        layout=info.room_composite.layout,
        audio_only=info.room_composite.audio_only,
        streams=tuple(
            EgressStream(r.url, api.StreamInfo.Status.Name(r.status).lower(), r.error)
            for r in info.stream_results
        ),
        segment_count=sum(r.segment_count for r in info.segment_results),
    )


def egress_from_webhook(event: api.WebhookEvent) -> Egress | None:
    """The egress an `egress_*` webhook is about, or None for any other event."""
    if not event.event.startswith("egress_") or not event.egress_info.egress_id:
        return None
    return egress_from_info(event.egress_info)


def _file_output(target: FileTarget) -> api.EncodedFileOutput:
    file_type = api.EncodedFileType.OGG if target.audio_only else api.EncodedFileType.MP4
    output = api.EncodedFileOutput(file_type=file_type, filepath=target.filepath)
    if target.s3 is not None:
        output.s3.CopyFrom(
            api.S3Upload(
                bucket=target.s3.bucket,
                region=target.s3.region,
                endpoint=target.s3.endpoint,
                force_path_style=target.s3.force_path_style,
                access_key=target.s3.access_key,
                secret=target.s3.secret,
            )
        )
    return output


def start_room_composite_egress(
    room: str, *, layout: str, preset: str, target: FileTarget
) -> Egress:
    """Ask the server to record the whole room (RoomCompositeEgress) into one file.

    Bounded by EGRESS_TIMEOUT_SECONDS: without an egress worker the server itself answers
    `unavailable` only after several seconds.

    Raises:
        LiveKitUnavailable: the server refused or did not answer; the message has its reason.
    """
    request = api.RoomCompositeEgressRequest(
        room_name=room,
        layout=layout,
        audio_only=target.audio_only,
        preset=api.EncodingOptionsPreset.Value(preset),
        file_outputs=[_file_output(target)],
    )
    return egress_from_info(_call_egress(lambda lk: lk.egress.start_room_composite_egress(request)))


def start_room_composite_stream(
    room: str, *, layout: str, rtmp_urls: list[str], hls_prefix: str | None
) -> Egress:
    """Ask the server to stream the whole room (RoomCompositeEgress) to RTMP destinations and,
    with `hls_prefix`, to HLS segments (`<prefix>_<n>.ts` and `index.m3u8` beside them, 2 s).

    Raises:
        LiveKitUnavailable: the server refused or did not answer; the message has its reason.
    """
    request = api.RoomCompositeEgressRequest(
        room_name=room, layout=layout, preset=api.EncodingOptionsPreset.H264_720P_30
    )
    if rtmp_urls:
        request.stream_outputs.append(
            api.StreamOutput(protocol=api.StreamProtocol.RTMP, urls=rtmp_urls)
        )
    if hls_prefix:
        request.segment_outputs.append(
            api.SegmentedFileOutput(
                protocol=api.SegmentedFileProtocol.HLS_PROTOCOL,
                filename_prefix=hls_prefix,
                playlist_name="index.m3u8",
                segment_duration=2,
            )
        )
    return egress_from_info(_call_egress(lambda lk: lk.egress.start_room_composite_egress(request)))


@dataclass(frozen=True)
class Ingress:
    """A LiveKit Ingress (INGRESS=livekit): where an encoder pushes, and with which key."""

    ingress_id: str
    url: str
    stream_key: str
    room_name: str


def create_ingress(room: str, *, name: str, identity: str) -> Ingress:
    """An RTMP ingress that publishes into `room` as `identity`, shown as `name`.

    Raises: LiveKitUnavailable (also when the server has no ingress service).
    """
    request = api.CreateIngressRequest(
        input_type=api.IngressInput.RTMP_INPUT,
        name=name,
        room_name=room,
        participant_identity=identity,
        participant_name=name,
    )
    info = _call(lambda lk: lk.ingress.create_ingress(request))
    return Ingress(info.ingress_id, info.url, info.stream_key, info.room_name)


def move_ingress(ingress_id: str, room: str) -> None:
    """Publish into another room from now on (a recurring meeting's next occurrence).

    Raises: RoomNotFound (no such ingress), LiveKitUnavailable.
    """
    request = api.UpdateIngressRequest(ingress_id=ingress_id, room_name=room)
    _call(lambda lk: lk.ingress.update_ingress(request))


def delete_ingress(ingress_id: str) -> None:
    """Raises: RoomNotFound (no such ingress), LiveKitUnavailable."""
    _call(lambda lk: lk.ingress.delete_ingress(api.DeleteIngressRequest(ingress_id=ingress_id)))


def ingress_state_of(event: api.WebhookEvent) -> tuple[str, str, str] | None:
    """(ingress id, "publishing" | "inactive" | "buffering" | "error" | "complete", error) of
    an ingress_* webhook; None for any other event."""
    if not event.event.startswith("ingress_") or not event.ingress_info.ingress_id:
        return None
    info = event.ingress_info
    status = api.IngressState.Status.Name(info.state.status).removeprefix("ENDPOINT_").lower()
    return info.ingress_id, status, info.state.error


def stop_egress(egress_id: str) -> Egress:
    """Raises: RoomNotFound (no such egress), LiveKitUnavailable."""
    request = api.StopEgressRequest(egress_id=egress_id)
    return egress_from_info(_call_egress(lambda lk: lk.egress.stop_egress(request)))


def list_egress(*, room: str = "", egress_id: str = "", active: bool = False) -> list[Egress]:
    """The egress jobs the server knows, filtered by room or id.

    Raises: LiveKitUnavailable (also when the server has no Redis, hence no egress).
    """
    request = api.ListEgressRequest(room_name=room, egress_id=egress_id, active=active)
    response = _call_egress(lambda lk: lk.egress.list_egress(request))
    return [egress_from_info(info) for info in response.items]


def update_room_metadata(room: str, changes: dict) -> dict:
    """Merge `changes` into the room's JSON metadata (other keys are kept); returns the result.

    Raises: RoomNotFound, LiveKitUnavailable.
    """

    async def merge(lk: api.LiveKitAPI):
        rooms = await lk.room.list_rooms(api.ListRoomsRequest(names=[room]))
        if not rooms.rooms:
            raise api.TwirpError("not_found", "room not found", status=404)
        try:
            current = json.loads(rooms.rooms[0].metadata or "{}")
        except ValueError:
            current = {}
        merged = (current if isinstance(current, dict) else {}) | changes
        request = api.UpdateRoomMetadataRequest(room=room, metadata=json.dumps(merged))
        await lk.room.update_room_metadata(request)
        return merged

    return _call(merge)


def _call_egress(operation: Callable[[api.LiveKitAPI], Awaitable[T]]) -> T:
    base = Settings.from_app()
    timeout = current_app.config.get("EGRESS_TIMEOUT_SECONDS", base.timeout)
    settings = Settings(base.url, base.api_key, base.api_secret, timeout)
    return async_to_sync(_run)(settings, operation)


def set_attributes(room: str, identity: str, attributes: dict[str, str]) -> None:
    """Set some of a participant's attributes (an empty value removes one).

    Participants cannot write their own (their tokens lack can_update_own_metadata), so
    what others read there, like a raised hand, was put there by the app.

    Raises: RoomNotFound, LiveKitUnavailable.
    """
    request = api.UpdateParticipantRequest(room=room, identity=identity, attributes=attributes)
    _call(lambda lk: lk.room.update_participant(request))


# ---- agent dispatch (the media worker's jobs) -----------------------------------------------


@dataclass(frozen=True)
class Dispatch:
    """An explicit dispatch of an agent (a media worker job kind) to a room."""

    dispatch_id: str
    agent_name: str
    room: str
    metadata: str
    # The jobs workers took for it (empty until one accepts); their participant identities.
    job_ids: tuple[str, ...] = ()
    identities: tuple[str, ...] = ()


def _dispatch(info: api.AgentDispatch) -> Dispatch:
    jobs = list(info.state.jobs) if info.HasField("state") else []
    return Dispatch(
        dispatch_id=info.id,
        agent_name=info.agent_name,
        room=info.room,
        metadata=info.metadata,
        job_ids=tuple(job.id for job in jobs),
        identities=tuple(job.state.participant_identity for job in jobs if job.state),
    )


def dispatch_agent(room: str, agent_name: str, metadata: dict) -> str:
    """Ask the server to give a job of `agent_name` in `room` to a registered worker, with
    `metadata` (JSON) as its parameters; returns the dispatch id. The server answers at once,
    whether or not a worker takes the job (see `wait_for_job`).

    Raises: RoomNotFound (no such room), LiveKitUnavailable.
    """
    request = api.CreateAgentDispatchRequest(
        agent_name=agent_name, room=room, metadata=json.dumps(metadata)
    )
    return _call(lambda lk: lk.agent_dispatch.create_dispatch(request)).id


def list_dispatches(room: str, dispatch_id: str = "") -> list[Dispatch]:
    """The room's dispatches (or the one with this id) with the jobs workers took.

    Raises: RoomNotFound (no such room), LiveKitUnavailable.
    """

    async def listed(lk: api.LiveKitAPI) -> list[api.AgentDispatch]:
        if dispatch_id:
            found = await lk.agent_dispatch.get_dispatch(dispatch_id, room)
            return [found] if found is not None else []
        return await lk.agent_dispatch.list_dispatch(room)

    return [_dispatch(info) for info in _call(listed)]


def delete_dispatch(room: str, dispatch_id: str) -> None:
    """Withdraw a dispatch; the server terminates its jobs (a worker then finishes its work:
    the recorder closes its file and reports).

    Raises: RoomNotFound (no such room or dispatch), LiveKitUnavailable.
    """
    _call(lambda lk: lk.agent_dispatch.delete_dispatch(dispatch_id, room))


JOB_POLL_SECONDS = 0.2


def wait_for_job(
    room: str, dispatch_id: str, seconds: float, identity: str = ""
) -> Dispatch | None:
    """Wait (at most `seconds`, one client) until a worker has taken a job of the dispatch;
    the dispatch then, or None when no worker took one in time (or it was withdrawn).

    livekit-server 1.13 lists a taken job in the dispatch's state only about 5 s after the
    worker's participant joined; with the `identity` the job joins as, its arrival in the
    room counts as taken at once.

    Raises: RoomNotFound (no such room), LiveKitUnavailable.
    """

    async def joined(lk: api.LiveKitAPI) -> bool:
        if not identity:
            return False
        listed = await lk.room.list_participants(api.ListParticipantsRequest(room=room))
        return any(p.identity == identity for p in listed.participants)

    async def poll(lk: api.LiveKitAPI) -> Dispatch | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            found = await lk.agent_dispatch.get_dispatch(dispatch_id, room)
            if found is None:
                return None
            dispatch = _dispatch(found)
            if dispatch.job_ids:
                return dispatch
            if await joined(lk):
                return replace(dispatch, identities=(identity,))
            if loop.time() + JOB_POLL_SECONDS > deadline:
                return None
            await asyncio.sleep(JOB_POLL_SECONDS)

    base = Settings.from_app()
    # Each poll is one short call: the whole wait is bounded, plus one call's worth.
    settings = Settings(base.url, base.api_key, base.api_secret, seconds + base.timeout)
    return async_to_sync(_run)(settings, poll)
