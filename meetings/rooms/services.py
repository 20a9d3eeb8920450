"""Joining a meeting: who you are in the room, and the media token that lets you in."""

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from meetings import livekit_gateway as gateway
from meetings.errors import ApiError
from meetings.models import Meeting, User

MAX_DISPLAY_NAME = 64


class JoinRole(enum.StrEnum):
    HOST = "host"
    PARTICIPANT = "participant"
    GUEST = "guest"


class JoinRefused(ApiError):
    """Nobody gets a token for this request; the message says why, for people."""


@dataclass(frozen=True)
class JoinTicket:
    token: str
    livekit_url: str
    identity: str
    role: JoinRole
    expires_at: datetime

    def as_json(self) -> dict:
        return {
            "token": self.token,
            "livekit_url": self.livekit_url,
            "identity": self.identity,
            "role": self.role.value,
            "expires_at": self.expires_at.isoformat().replace("+00:00", "Z"),
        }


def new_guest_identity() -> str:
    return f"g-{secrets.token_hex(8)}"


def clean_display_name(raw: str | None, fallback: str = "") -> str:
    """Raises: JoinRefused naming `display_name` when it is empty, too long or unprintable."""
    name = " ".join((raw if raw is not None else fallback).split())
    if not name:
        raise JoinRefused(422, "invalid_field", "Enter the name others will see.", "display_name")
    if len(name) > MAX_DISPLAY_NAME:
        message = f"Use at most {MAX_DISPLAY_NAME} characters for your name."
        raise JoinRefused(422, "invalid_field", message, "display_name")
    if not name.isprintable():
        raise JoinRefused(422, "invalid_field", "Use printable characters only.", "display_name")
    return name


def role_for(meeting: Meeting, user: User | None) -> JoinRole:
    if user is None:
        return JoinRole.GUEST
    return JoinRole.HOST if user.id == meeting.host_id else JoinRole.PARTICIPANT


def issue_join_ticket(
    meeting: Meeting, user: User | None, guest_identity: str | None, display_name: str
) -> JoinTicket:
    """Provision the meeting's room and mint a token for one person.

    Raises:
        JoinRefused: the media server cannot be reached (503).
    """
    role = role_for(meeting, user)
    identity = user.livekit_identity if user is not None else guest_identity
    if not identity:
        raise ValueError("a guest needs an identity")
    config = current_app.config
    try:
        gateway.ensure_room(
            meeting.room_name,
            empty_timeout=config["LIVEKIT_EMPTY_TIMEOUT_SECONDS"],
            departure_timeout=config["LIVEKIT_DEPARTURE_TIMEOUT_SECONDS"],
            metadata={
                "slug": meeting.slug,
                "title": meeting.title,
                "host_identity": meeting.host.livekit_identity,
            },
        )
    except gateway.LiveKitError as error:
        current_app.logger.warning("provisioning %s failed: %s", meeting.room_name, error)
        message = "The meeting server is not reachable right now. Try again in a moment."
        raise JoinRefused(503, "livekit_unavailable", message) from error
    minted = gateway.mint_token(
        gateway.MediaGrant(
            room=meeting.room_name,
            identity=identity,
            name=display_name,
            can_publish=True,
            can_subscribe=True,
            can_publish_data=True,
            room_admin=role is JoinRole.HOST,
            ttl=timedelta(seconds=config["LIVEKIT_TOKEN_TTL_SECONDS"]),
            metadata={"role": role.value},
        )
    )
    return JoinTicket(
        token=minted.jwt,
        livekit_url=config["LIVEKIT_PUBLIC_URL"],
        identity=identity,
        role=role,
        expires_at=minted.expires_at,
    )
