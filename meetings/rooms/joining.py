"""Joining a meeting: who may enter which occurrence, when, with which media grants.

The schedule decides: a token is only minted inside an occurrence's join window, for the
room of that occurrence, which is provisioned on the server first. Host decisions (lobby,
removal, lock, end) are read from the database, so every app instance sees the same.
"""

import enum
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from meetings import audit_log, rate_limits
from meetings import livekit_gateway as gateway
from meetings.api.bodies import to_iso
from meetings.extensions import db
from meetings.models import AuditResult, LobbyEntry, Meeting, User
from meetings.rooms import decisions as host_decisions
from meetings.rooms import signals
from meetings.rooms.errors import JoinRefused
from meetings.rooms.provisioning import provision
from meetings.scheduling.access import check_audience
from meetings.scheduling.recurrence import Occurrence
from meetings.scheduling.window import Phase, window

MAX_DISPLAY_NAME = 64


class JoinRole(enum.StrEnum):
    HOST = "host"  # the host or a co-host
    PARTICIPANT = "participant"
    GUEST = "guest"


@dataclass(frozen=True)
class JoinTicket:
    token: str
    livekit_url: str
    identity: str
    role: JoinRole
    expires_at: datetime
    occurrence: Occurrence
    can_publish: bool
    join_muted: bool

    def as_json(self) -> dict:
        return {
            "token": self.token,
            "livekit_url": self.livekit_url,
            "identity": self.identity,
            "role": self.role.value,
            "expires_at": to_iso(self.expires_at),
            "occurrence": {
                "key": self.occurrence.key,
                "starts_at": to_iso(self.occurrence.starts_at),
                "ends_at": to_iso(self.occurrence.ends_at),
            },
            "can_publish": self.can_publish,
            "join_muted": self.join_muted,
        }


GUEST_PREFIX = "g-"


def new_guest_identity() -> str:
    return f"{GUEST_PREFIX}{secrets.token_hex(8)}"


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
    return JoinRole.HOST if meeting.is_host(user) else JoinRole.PARTICIPANT


# ---- who may enter ------------------------------------------------------------------------


def check_access_code(
    meeting: Meeting, user: User | None, access_code: str | None, address: str = ""
) -> None:
    """Wrong codes count per meeting, whoever sends them: past the limit nobody may try
    for a while, the right code included, so a code cannot be found by guessing from many
    addresses. Each burst goes to the meeting's audit log.

    Raises: JoinRefused naming `access_code` when it is missing or wrong (hosts need none),
        429 with a wait while the meeting takes no more tries.
    """
    if not meeting.access_code or meeting.is_host(user):
        return
    limit = current_app.config["ACCESS_CODE_FAILURE_LIMIT"]
    key = ("access-code", str(meeting.id))
    wait = rate_limits.retry_after(limit, *key)
    if wait:
        message = (
            "Too many wrong access codes were tried for this meeting. "
            f"Try again in {wait} seconds, or ask the host."
        )
        raise JoinRefused(429, "too_many_attempts", message, "access_code", retry_after=wait)
    given = (access_code or "").strip().encode()
    if hmac.compare_digest(given, meeting.access_code.encode()):
        return
    if access_code:
        rate_limits.count_hit(limit, *key)
    if access_code and rate_limits.retry_after(limit, *key):  # this try used up the window
        audit_log.record(
            audit_log.Actor.of(user, None, address),
            "access_code_locked",
            AuditResult.REFUSED,
            meeting=meeting,
            detail=f"more than {limit} wrong access codes; tries paused",
        )
        db.session.commit()  # the refusal below must not take the entry with it
    message = "Enter the meeting's access code." if not access_code else "Wrong access code."
    raise JoinRefused(403, "access_code_invalid", message, "access_code")


def open_occurrence(meeting: Meeting, user: User | None) -> Occurrence:
    """The occurrence this person may join now.

    Raises:
        JoinRefused: cancelled (410), over (410), or not open yet (409, with when it opens).
    """
    schedule = window(meeting, early_access=meeting.is_host(user))
    if schedule.phase == Phase.CANCELLED:
        raise JoinRefused(410, "meeting_cancelled", "This meeting was cancelled by its host.")
    if schedule.phase == Phase.OVER:
        raise JoinRefused(410, "meeting_over", "This meeting is over.")
    if schedule.phase == Phase.NOT_OPEN:
        message = f"This meeting opens at {to_iso(schedule.opens_at)}."
        raise JoinRefused(409, "not_open_yet", message)
    return schedule.occurrence


def must_wait_for_host(meeting: Meeting, role: JoinRole, admitted: bool) -> bool:
    # Someone a host let in from the lobby has met the host's decision already.
    return role != JoinRole.HOST and not meeting.join_before_host and not admitted


def needs_people(meeting: Meeting, role: JoinRole, admitted: bool = False) -> bool:
    """Does `check_room` need to know who is in the room?"""
    return must_wait_for_host(meeting, role, admitted) or bool(meeting.max_participants)


def check_room(
    meeting: Meeting,
    role: JoinRole,
    identity: str,
    present: list[gateway.Participant],
    *,
    admitted: bool = False,
) -> None:
    """Raises: JoinRefused when the host is not there yet (if required) or the room is full.

    `present` may be empty when `needs_people` said the checks do not look at it.
    """
    # A rejoin is not a newcomer, and a recorder or captioner takes nobody's seat.
    others = [p for p in present if p.identity != identity and not p.is_worker]
    if must_wait_for_host(meeting, role, admitted):
        hosts = meeting.host_identities()
        if not any(p.identity in hosts for p in others):
            message = "Waiting for the host to start the meeting."
            raise JoinRefused(409, "waiting_for_host", message)
    if meeting.max_participants and len(others) >= meeting.max_participants:
        message = f"This meeting is full ({meeting.max_participants} people). Try again later."
        raise JoinRefused(409, "meeting_full", message)


def check_standing(decisions: host_decisions.Decisions) -> None:
    """Raises: JoinRefused for someone removed, or when a host ended the occurrence."""
    if decisions.ended:
        raise JoinRefused(410, "meeting_ended", "The host ended this meeting.")
    if decisions.removed:
        message = "The host removed you from this meeting."
        raise JoinRefused(403, "removed", message)


def check_not_locked(decisions: host_decisions.Decisions) -> None:
    if decisions.locked:
        message = "The host locked this meeting: nobody new can join right now."
        raise JoinRefused(423, "meeting_locked", message)


def check_lobby_denial(
    decisions: host_decisions.Decisions, meeting: Meeting, occurrence_key: str, address: str
) -> None:
    """Raises: JoinRefused for ten minutes after a host turned this browser or this address
    away (clearing cookies makes a new guest, not a new address)."""
    until = host_decisions.denied_until(decisions.entry) or host_decisions.address_denied_until(
        meeting, occurrence_key, address
    )
    if until is not None:
        message = f"The host declined your request. You can ask again after {to_iso(until)}."
        raise JoinRefused(403, "lobby_denied", message)


def issue_join_ticket(
    meeting: Meeting,
    user: User | None,
    guest_identity: str | None,
    display_name: str,
    access_code: str | None = None,
    address: str = "",
) -> "JoinTicket | LobbyEntry":
    """Check the schedule, access rules and host decisions; then either queue the person in
    the lobby (a LobbyEntry comes back) or provision the room and mint a least-privilege token.

    Raises:
        JoinRefused: with the status and message the person should see.
    """
    check_audience(meeting, user)
    occurrence = open_occurrence(meeting, user)
    role = role_for(meeting, user)
    identity = user.livekit_identity if user is not None else guest_identity
    if not identity:
        raise ValueError("a guest needs an identity")
    decisions = host_decisions.of_person(meeting, occurrence.key, identity)
    if role == JoinRole.HOST:
        host_decisions.reopen(decisions)
        present = provision(occurrence, decisions, need_people=needs_people(meeting, role))
        check_room(meeting, role, identity, present)
        signals.host_joining.send(meeting, occurrence=occurrence)
        return mint_ticket(meeting, occurrence, role, identity, display_name, decisions)
    check_standing(decisions)
    admitted = decisions.admitted
    if not admitted:
        check_access_code(meeting, user, access_code, address)
        check_not_locked(decisions)
        # After a host removed a guest, guests wait even where the meeting has no lobby.
        if meeting.lobby or (role == JoinRole.GUEST and decisions.guests_wait):
            check_lobby_denial(decisions, meeting, occurrence.key, address)
            return host_decisions.queue(
                meeting, occurrence.key, identity, user, display_name, address
            )
    # Someone a host admitted before the lock rejoins: not a new join.
    need_people = needs_people(meeting, role, admitted)
    present = provision(occurrence, decisions, need_people=need_people)
    check_room(meeting, role, identity, present, admitted=admitted)
    return mint_ticket(meeting, occurrence, role, identity, display_name, decisions)


def mint_ticket(
    meeting: Meeting,
    occurrence: Occurrence,
    role: JoinRole,
    identity: str,
    display_name: str,
    decisions: host_decisions.Decisions,
) -> JoinTicket:
    """A token for exactly this occurrence's room with the grants the person's role allows."""
    # Webinar attendees watch and listen (and chat) unless a host made them a speaker.
    promoted = decisions.promoted
    can_publish = role == JoinRole.HOST or not meeting.webinar or promoted
    config = current_app.config
    minted = gateway.mint_token(
        gateway.MediaGrant(
            room=occurrence.room_name,
            identity=identity,
            name=display_name,
            can_publish=can_publish,
            can_subscribe=True,
            can_publish_data=True,
            ttl=timedelta(seconds=config["LIVEKIT_TOKEN_TTL_SECONDS"]),
            metadata={"role": role.value, "speaker": promoted},
        )
    )
    return JoinTicket(
        token=minted.jwt,
        livekit_url=config["LIVEKIT_PUBLIC_URL"],
        identity=identity,
        role=role,
        expires_at=minted.expires_at,
        occurrence=occurrence,
        can_publish=can_publish,
        join_muted=meeting.join_muted and role != JoinRole.HOST,
    )
