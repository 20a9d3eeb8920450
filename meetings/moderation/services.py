"""Host moderation, enforced by the media server and written to the audit log.

Every action names the occurrence that is running now, calls LiveKit's RoomService through
the gateway, and records who did what to whom with the result, including failures. Nothing
local claims success unless the server said yes.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa

from meetings import audit_log
from meetings import livekit_gateway as gateway
from meetings.audit_log import Actor
from meetings.errors import ApiError
from meetings.extensions import db
from meetings.models import AuditResult, LobbyEntry, Meeting, User
from meetings.rooms import decisions as host_decisions
from meetings.rooms import hands, live_effects
from meetings.rooms.errors import UNREACHABLE_NOTHING_CHANGED
from meetings.rooms.joining import GUEST_PREFIX, JoinRole
from meetings.scheduling.recurrence import Occurrence
from meetings.scheduling.window import Phase, window

T = TypeVar("T")
SOURCES = ("microphone", "camera", "screen_share")


@dataclass
class Outcome:
    """What the audit row says about an action; the action may add to it as it goes."""

    detail: str = ""


@dataclass(frozen=True)
class Moderation:
    """A host acting on the occurrence of a meeting that is running now."""

    meeting: Meeting
    occurrence: Occurrence
    actor: Actor

    @property
    def room(self) -> str:
        return self.occurrence.room_name

    def log(self, action: str, result: AuditResult, target: str = "", **extra) -> None:
        """Write the outcome to the audit log now: an error raised next must not lose it."""
        self.record(action, result, target, **extra)
        db.session.commit()

    def record(self, action: str, result: AuditResult, target: str = "", **extra) -> None:
        """Add the outcome to the audit log; it commits with the action's own changes."""
        audit_log.record(
            self.actor,
            action,
            result,
            meeting=self.meeting,
            occurrence_key=self.occurrence.key,
            target=target,
            **extra,
        )

    @contextmanager
    def action(self, action: str, target: str = "", detail: str = "") -> Iterator[Outcome]:
        """One host action, one audit row, however many RoomService calls it takes.

        The block's LiveKit calls and database changes make the action; when it finishes the
        row is added as OK and committed with those changes. When it fails the row says why
        and is committed before the error reaches the caller.

        Raises:
            ApiError: 404 when the room or the person is not on the server, 503 when the
                server cannot be reached, or whatever ApiError the block raised.
        """
        outcome = Outcome(detail)
        try:
            yield outcome
        except gateway.RoomNotFound as error:
            self.log(action, AuditResult.FAILED, target, detail=outcome.detail, error=str(error))
            message = (
                f"{target!r} is not in the meeting right now."
                if target
                else "The meeting's room is not open on the server right now."
            )
            raise ApiError(404, "not_in_meeting", message) from error
        except gateway.LiveKitError as error:
            self.log(action, AuditResult.FAILED, target, detail=outcome.detail, error=str(error))
            raise ApiError(503, "livekit_unavailable", UNREACHABLE_NOTHING_CHANGED) from error
        except ApiError as error:
            self.log(action, AuditResult.FAILED, target, detail=outcome.detail, error=error.message)
            raise
        self.log(action, AuditResult.OK, target, detail=outcome.detail)

    def call(self, action: str, target: str, operation: Callable[[], T], detail: str = "") -> T:
        """An action that is one RoomService call; audited and its failures made clear."""
        with self.action(action, target, detail):
            return operation()


def moderation_for(meeting: Meeting, user: User | None, actor: Actor, action: str, target: str):
    """The caller's moderation context.

    Raises:
        ApiError: 403 for anyone but the meeting's hosts and operators (the attempt is
            audited, nothing is sent to LiveKit); 409 when no occurrence is running.
    """
    if user is None:
        # Not audited: anyone who knows a slug could otherwise fill the meeting's log.
        raise ApiError(401, "unauthenticated", "Sign in as one of the meeting's hosts.")
    if not meeting.is_managed_by(user):
        audit_log.record(actor, action, AuditResult.REFUSED, meeting=meeting, target=target)
        db.session.commit()
        raise ApiError(403, "forbidden", "Only the meeting's hosts may do this.")
    schedule = window(meeting, early_access=True)
    if schedule.phase != Phase.OPEN:
        raise ApiError(409, "not_running", "This meeting is not running now.")
    return Moderation(meeting, schedule.occurrence, actor)


# ---- people in the room ------------------------------------------------------------------


def mute(moderation: Moderation, identity: str, source: str) -> None:
    """Mute one of a participant's tracks on the server (they cannot send it muted)."""
    if source not in SOURCES:
        raise ApiError(
            422, "invalid_field", f"source must be one of {', '.join(SOURCES)}.", "source"
        )
    with moderation.action("mute", identity, source):
        person = gateway.get_participant(moderation.room, identity)
        track = person.track(source)
        if track is None:
            raise ApiError(404, "no_track", f"{person.name or identity} has no {source} track.")
        gateway.mute_track(moderation.room, identity, track.sid)


def mute_all(moderation: Moderation) -> int:
    """Mute every microphone but the hosts'; returns how many were muted.

    One row in the audit log names everyone it muted (up to a failure, if one stops it).
    """
    hosts = moderation.meeting.host_identities()
    muted: list[str] = []
    with moderation.action("mute_all", detail="nobody to mute") as outcome:
        for person in gateway.list_live_participants(moderation.room):
            microphone = person.track("microphone")
            if person.identity in hosts or microphone is None or microphone.muted:
                continue
            gateway.mute_track(moderation.room, person.identity, microphone.sid)
            muted.append(person.identity)
            outcome.detail = f"muted {len(muted)}: {', '.join(muted)}"
    return len(muted)


def ask_to_unmute(moderation: Moderation, identity: str) -> None:
    """A request the participant answers; the host never turns someone's mic on."""
    moderation.call(
        "ask_unmute",
        identity,
        lambda: _send_after_check(moderation.room, identity, {"type": "ask_unmute"}),
    )


def _send_after_check(room: str, identity: str, payload: dict) -> None:
    gateway.get_participant(room, identity)  # 404 for someone not there
    gateway.send_data(room, payload, "moderation", [identity])


def remove(moderation: Moderation, identity: str) -> bool:
    """Take someone out; they get no new token for this occurrence. Returns True when this
    made guests wait in the lobby: a removed guest could otherwise clear cookies and walk
    back in as a new guest of a meeting without a lobby."""
    if identity in moderation.meeting.host_identities():
        raise ApiError(409, "is_host", "Hosts cannot be removed; take their co-host role first.")
    meeting, key = moderation.meeting, moderation.occurrence.key
    guests_now_wait = False
    with moderation.action("remove", identity) as outcome:
        gateway.remove_participant(moderation.room, identity)
        # Stored once the server said yes: a failed removal must not look like a removal.
        standing = host_decisions.standing_for_update(meeting, key, identity)
        standing.removed_at = datetime.now(UTC)
        if identity.startswith(GUEST_PREFIX) and not meeting.lobby:
            found = host_decisions.occurrence_state_for_update(meeting, key)
            guests_now_wait = found.guests_wait_at is None
            found.guests_wait_at = found.guests_wait_at or datetime.now(UTC)
        if guests_now_wait:
            outcome.detail = "guests now wait in the lobby"
    return guests_now_wait


def set_guest_lobby(moderation: Moderation, on: bool) -> None:
    """Make guests wait in the lobby for the rest of the occurrence, or let them in again."""
    with moderation.action("guest_lobby_on" if on else "guest_lobby_off"):
        found = host_decisions.occurrence_state_for_update(
            moderation.meeting, moderation.occurrence.key
        )
        found.guests_wait_at = datetime.now(UTC) if on else None


def set_speaker(moderation: Moderation, identity: str, speaker: bool) -> None:
    """Promote an attendee to speaker (or back): effective at once, kept across rejoins."""
    action = "promote" if speaker else "demote"

    with moderation.action(action, identity):
        person = gateway.get_participant(moderation.room, identity)
        metadata = person.metadata | {"speaker": speaker}
        gateway.set_publishing(
            moderation.room, identity, speaker or _may_publish(moderation, identity), metadata
        )
        standing = host_decisions.standing_for_update(
            moderation.meeting, moderation.occurrence.key, identity
        )
        standing.promoted = speaker


def _may_publish(moderation: Moderation, identity: str) -> bool:
    """Without a promotion: hosts always, others only outside webinars."""
    return identity in moderation.meeting.host_identities() or not moderation.meeting.webinar


def lower_hand(moderation: Moderation, identity: str) -> None:
    """Take a raised hand down; the person's page says a host did it."""
    moderation.call(
        "lower_hand",
        identity,
        lambda: hands.set_hand(moderation.room, identity, raised=False),
    )


def make_co_host(moderation: Moderation, identity: str) -> None:
    """Give a signed-in participant host powers in this meeting."""
    with moderation.action("make_co_host", identity):
        user = _user_by_identity(identity)
        if user is None:
            message = "Only people signed in with an account can be co-hosts."
            raise ApiError(422, "not_a_user", message)
        person = gateway.get_participant(moderation.room, identity)
        metadata = person.metadata | {"role": JoinRole.HOST.value}
        gateway.set_publishing(moderation.room, identity, True, metadata)
        if user not in moderation.meeting.co_hosts and user.id != moderation.meeting.host_id:
            moderation.meeting.co_hosts.append(user)


def revoke_co_host(moderation: Moderation, identity: str) -> None:
    """Take a co-host's host powers, at once: their page drops the host controls, the
    server refuses their host calls, and the meeting's host stays its host."""
    user = _user_by_identity(identity)
    meeting = moderation.meeting
    if user is None or user not in meeting.co_hosts:
        raise ApiError(409, "not_co_host", "This person is not a co-host.")
    # Stored first: from now on the app refuses their host calls, whatever the server says.
    meeting.co_hosts.remove(user)
    db.session.commit()
    try:
        live_effects.demote(moderation.room, identity, may_publish=not meeting.webinar)
    except gateway.RoomNotFound:
        pass  # not in the room now: their next join gets a participant's token
    except gateway.LiveKitError as error:
        moderation.log("revoke_co_host", AuditResult.FAILED, identity, error=str(error))
        message = "They are no longer a co-host; their page shows it once the server answers."
        raise ApiError(503, "livekit_unavailable", message) from error
    moderation.log("revoke_co_host", AuditResult.OK, identity)


def _user_by_identity(identity: str) -> User | None:
    if not identity.startswith("u-") or not identity[2:].isdigit():
        return None
    return db.session.scalar(sa.select(User).where(User.id == int(identity[2:])))


# ---- the whole occurrence ----------------------------------------------------------------


def set_locked(moderation: Moderation, locked: bool) -> None:
    """A locked meeting takes nobody new, lobby included; people inside stay."""
    with moderation.action("lock" if locked else "unlock"):
        found = host_decisions.occurrence_state_for_update(
            moderation.meeting, moderation.occurrence.key
        )
        found.locked_at = datetime.now(UTC) if locked else None


def end_for_all(moderation: Moderation) -> None:
    """Close the room on the server: every page shows that the host ended the meeting."""
    try:
        with moderation.action("end"):
            gateway.delete_room(moderation.room)
            found = host_decisions.occurrence_state_for_update(
                moderation.meeting, moderation.occurrence.key
            )
            found.ended_at = datetime.now(UTC)
            # The room is gone: the next join must create it again (auto_create is off).
            found.room_provisioned_at = None
    except ApiError as error:
        if error.code == "not_in_meeting":  # no such room on the server: do not skip creating it
            host_decisions.forget_provisioned(moderation.meeting, moderation.occurrence.key)
        raise


# ---- the lobby ---------------------------------------------------------------------------


def lobby_queue(moderation: Moderation) -> list[LobbyEntry]:
    return host_decisions.waiting(moderation.meeting, moderation.occurrence.key)


def decide(moderation: Moderation, entry: LobbyEntry, admit: bool) -> None:
    action = "admit" if admit else "deny"
    # Added first so that it commits with the decision, in one transaction.
    moderation.record(action, AuditResult.OK, entry.identity, detail=entry.display_name)
    host_decisions.decide(entry, admit, moderation.actor.user)
