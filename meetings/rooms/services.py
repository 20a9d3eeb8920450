"""Joining a meeting: who may enter which occurrence, when, with which media grants.

The schedule decides: a token is only minted inside an occurrence's join window, for the
room of that occurrence, which is provisioned on the server first (the server runs with
auto_create off, so no room exists that this code did not create).
"""

import enum
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app

from meetings import livekit_gateway as gateway
from meetings import rate_limits
from meetings.errors import ApiError
from meetings.models import Access, AuditResult, LobbyEntry, Meeting, Role, User
from meetings.moderation import audit, state
from meetings.recordings import services as recordings
from meetings.scheduling import recurrence as rec
from meetings.scheduling.recurrence import Occurrence
from meetings.short_cache import cache_of

MAX_DISPLAY_NAME = 64
UNREACHABLE = "The meeting server is not reachable right now. Try again in a moment."


class JoinRole(enum.StrEnum):
    HOST = "host"  # the host or a co-host
    PARTICIPANT = "participant"
    GUEST = "guest"


class JoinRefused(ApiError):
    """Nobody gets a token for this request; the message says why, for people."""


class Phase(enum.StrEnum):
    CANCELLED = "cancelled"
    NOT_OPEN = "not_open"
    OPEN = "open"
    OVER = "over"


@dataclass(frozen=True)
class Window:
    """Where a meeting stands in its schedule at one moment."""

    phase: Phase
    occurrence: Occurrence | None = None
    opens_at: datetime | None = None


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
            "expires_at": _iso(self.expires_at),
            "occurrence": {
                "key": self.occurrence.key,
                "starts_at": _iso(self.occurrence.starts_at),
                "ends_at": _iso(self.occurrence.ends_at),
            },
            "can_publish": self.can_publish,
            "join_muted": self.join_muted,
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


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


# ---- the schedule -------------------------------------------------------------------------


def window(meeting: Meeting, now: datetime | None = None, *, early_access: bool = False) -> Window:
    """Is the meeting open now? Hosts (`early_access`) may open the next occurrence early."""
    now = now or datetime.now(UTC)
    config = current_app.config
    if meeting.is_cancelled:
        return Window(Phase.CANCELLED)
    grace = timedelta(minutes=config["JOIN_GRACE_MINUTES"])
    occurrence = rec.current_or_next(meeting, now, grace)
    if occurrence is None:
        return Window(Phase.OVER)
    opens_at = occurrence.starts_at - timedelta(minutes=config["JOIN_EARLY_MINUTES"])
    if now < opens_at and not early_access and not host_is_in(occurrence):
        return Window(Phase.NOT_OPEN, occurrence, opens_at)
    return Window(Phase.OPEN, occurrence, opens_at)


def host_is_in(occurrence: Occurrence) -> bool:
    """A host who opened the meeting early lets everyone in, as people expect.

    An unreachable server counts as "no": the page then shows the schedule.
    """

    def identities() -> frozenset[str]:
        try:
            return frozenset(p.identity for p in gateway.list_participants(occurrence.room_name))
        except gateway.LiveKitError:
            return frozenset()

    # The waiting page before an occurrence opens is for anyone with the link: the server is
    # asked whether a host is in at most every few seconds per room and process.
    present = cache_of("room_identities", seconds=3).get(occurrence.room_name, identities)
    return bool(present & occurrence.meeting.host_identities())


# ---- who may enter ------------------------------------------------------------------------


def check_audience(meeting: Meeting, user: User | None) -> None:
    """Raises: JoinRefused when the meeting is not for this person (401 or 403)."""
    if meeting.is_host(user):
        return
    if meeting.access in (Access.SIGNED_IN, Access.INVITED) and user is None:
        raise JoinRefused(401, "sign_in_required", "Sign in to join this meeting.")
    if meeting.access == Access.INVITED and user.email not in meeting.invitee_emails:
        message = "This meeting is for invited people only. Ask the host to invite you."
        raise JoinRefused(403, "not_invited", message)
    if meeting.access == Access.INVITED and not user.email_verified:
        # The invitation is for the address: nobody gets in on it before proving it is theirs.
        message = "Confirm your email address first: open the link we mailed you."
        raise JoinRefused(403, "email_unverified", message)


def may_see_details(meeting: Meeting, user: User | None) -> bool:
    """May this person read an invite-only meeting's title, description and host? Only those
    it is for (and operators); others see what the join page needs to say no."""
    if meeting.access != Access.INVITED or (user is not None and user.role == Role.OPS):
        return True
    try:
        check_audience(meeting, user)
    except JoinRefused:
        return False
    return True


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
        audit.record(
            audit.Actor.of(user, None, address),
            "access_code_locked",
            AuditResult.REFUSED,
            meeting=meeting,
            detail=f"more than {limit} wrong access codes; tries paused",
        )
    message = "Enter the meeting's access code." if not access_code else "Wrong access code."
    raise JoinRefused(403, "access_code_invalid", message, "access_code")


def open_occurrence(meeting: Meeting, user: User | None) -> Occurrence:
    """The occurrence this person may join now.

    Raises:
        JoinRefused: cancelled (410), over (410), or not open yet (409, with when it opens).
    """
    state = window(meeting, early_access=meeting.is_host(user))
    if state.phase == Phase.CANCELLED:
        raise JoinRefused(410, "meeting_cancelled", "This meeting was cancelled by its host.")
    if state.phase == Phase.OVER:
        raise JoinRefused(410, "meeting_over", "This meeting is over.")
    if state.phase == Phase.NOT_OPEN:
        message = f"This meeting opens at {_iso(state.opens_at)}."
        raise JoinRefused(409, "not_open_yet", message)
    return state.occurrence


# ---- the media plane ----------------------------------------------------------------------


# Server and app clocks may differ by this much when we judge that CreateRoom made the room.
CLOCK_SKEW = timedelta(seconds=2)
# Never trust the memo longer than this, whatever the timeouts.
MEMO_CAP = timedelta(seconds=60)


def memo_window() -> timedelta:
    """How long after provisioning a join may skip CreateRoom.

    The memo is only written when the room cannot close soon: someone is in it, or CreateRoom
    has just made it. livekit-server then keeps it at least `departure_timeout` after the
    last person leaves, and `empty_timeout` from creation if nobody comes (checked once a
    second, in whole seconds: count one second less). Half the shorter of the two (10 s with
    the defaults, 20 s and 300 s) leaves the other half for the clock skew above and for the
    browser to connect with its token before the room could close.
    """
    config = current_app.config
    shortest = min(
        config["LIVEKIT_EMPTY_TIMEOUT_SECONDS"], config["LIVEKIT_DEPARTURE_TIMEOUT_SECONDS"]
    )
    return min(MEMO_CAP, timedelta(seconds=max(0, shortest) / 2))


def provision(
    occurrence: Occurrence, decisions: state.Decisions, *, need_people: bool = True
) -> list[gateway.Participant]:
    """Make sure the occurrence's room is on the server; returns who is in it.

    A room provisioned moments ago (by any app instance, see `memo_window`) is not created
    again; when `need_people` is False nobody is asked either, and the list is empty.

    Raises:
        JoinRefused: the media server cannot be reached (503).
    """
    meeting = occurrence.meeting
    now = datetime.now(UTC)
    window = memo_window()
    if window and decisions.provisioned_since(now - window):
        if not need_people:
            return []
        try:
            return gateway.list_participants(occurrence.room_name)
        except gateway.RoomNotFound:
            pass  # closed by someone else meanwhile: create it again below
        except gateway.LiveKitError as error:
            current_app.logger.warning("listing %s failed: %s", occurrence.room_name, error)
            raise JoinRefused(503, "livekit_unavailable", UNREACHABLE) from error
    config = current_app.config
    try:
        room = gateway.ensure_room(
            occurrence.room_name,
            empty_timeout=config["LIVEKIT_EMPTY_TIMEOUT_SECONDS"],
            departure_timeout=config["LIVEKIT_DEPARTURE_TIMEOUT_SECONDS"],
            # The server's own limit is a backstop: we refuse with a clear message first.
            max_participants=meeting.max_participants or 0,
            metadata={
                "slug": meeting.slug,
                "title": meeting.title,
                "occurrence": occurrence.key,
                "host_identity": meeting.host.livekit_identity,
            },
        )
    except gateway.LiveKitError as error:
        current_app.logger.warning("provisioning %s failed: %s", occurrence.room_name, error)
        raise JoinRefused(503, "livekit_unavailable", UNREACHABLE) from error
    # An empty room that is not new may be about to close (its last person left a while
    # ago): then every join provisions it again, as before.
    made_now = room.created_at is not None and room.created_at >= now - CLOCK_SKEW
    if window and (room.occupied or made_now):
        state.remember_provisioned(meeting, occurrence.key, now)
    return room.participants


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
    others = [p for p in present if p.identity != identity]  # a rejoin is not a newcomer
    if must_wait_for_host(meeting, role, admitted):
        hosts = meeting.host_identities()
        if not any(p.identity in hosts for p in others):
            message = "Waiting for the host to start the meeting."
            raise JoinRefused(409, "waiting_for_host", message)
    if meeting.max_participants and len(others) >= meeting.max_participants:
        message = f"This meeting is full ({meeting.max_participants} people). Try again later."
        raise JoinRefused(409, "meeting_full", message)


def check_standing(decisions: state.Decisions) -> None:
    """Raises: JoinRefused for someone removed, or when a host ended the occurrence."""
    if decisions.ended:
        raise JoinRefused(410, "meeting_ended", "The host ended this meeting.")
    if decisions.removed:
        message = "The host removed you from this meeting."
        raise JoinRefused(403, "removed", message)


def check_not_locked(decisions: state.Decisions) -> None:
    if decisions.locked:
        message = "The host locked this meeting: nobody new can join right now."
        raise JoinRefused(423, "meeting_locked", message)


def check_lobby_denial(
    decisions: state.Decisions, meeting: Meeting, occurrence_key: str, address: str
) -> None:
    """Raises: JoinRefused for ten minutes after a host turned this browser or this address
    away (clearing cookies makes a new guest, not a new address)."""
    until = state.denied_until(decisions.entry) or state.address_denied_until(
        meeting, occurrence_key, address
    )
    if until is not None:
        message = f"The host declined your request. You can ask again after {_iso(until)}."
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
    decisions = state.decisions(meeting, occurrence.key, identity)
    if role == JoinRole.HOST:
        state.reopen(decisions)
        present = provision(occurrence, decisions, need_people=needs_people(meeting, role))
        check_room(meeting, role, identity, present)
        # Meetings set to record themselves start when a host joins (once per occurrence).
        recordings.auto_record(meeting, occurrence)
        return mint_ticket(meeting, occurrence, role, identity, display_name, decisions)
    check_standing(decisions)
    admitted = decisions.admitted
    if not admitted:
        check_access_code(meeting, user, access_code, address)
        check_not_locked(decisions)
        # After a host removed a guest, guests wait even where the meeting has no lobby.
        if meeting.lobby or (role == JoinRole.GUEST and decisions.guests_wait):
            check_lobby_denial(decisions, meeting, occurrence.key, address)
            return state.queue(meeting, occurrence.key, identity, user, display_name, address)
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
    decisions: state.Decisions,
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
