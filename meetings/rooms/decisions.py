"""What hosts decided, as stored in the database: lobby entries, standings, lock and end.

Kept in the database, not in process memory, so every app instance sees the same lobby.
This module only reads and writes rows; the join and moderation services decide.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from meetings.extensions import db, insert_on_conflict
from meetings.models import LobbyEntry, LobbyStatus, Meeting, OccurrenceState, Standing, User

DENIAL_COOLDOWN = timedelta(minutes=10)
# The waiting page asks every second, or holds a request open that marks it seen every
# HEARTBEAT; after this long without a word it was closed.
SEEN_WITHIN = timedelta(seconds=20)
# How often a held request looks at its row: at most this much delay after a decision, for
# a read of one row by its key.
CHECK_EVERY_SECONDS = 0.1
HEARTBEAT = timedelta(seconds=5)


def _now() -> datetime:
    return datetime.now(UTC)


# ---- lobby -------------------------------------------------------------------------------


def latest_entry(meeting: Meeting, occurrence_key: str, identity: str) -> LobbyEntry | None:
    query = (
        sa.select(LobbyEntry)
        .where(
            LobbyEntry.meeting_id == meeting.id,
            LobbyEntry.occurrence_key == occurrence_key,
            LobbyEntry.identity == identity,
        )
        .order_by(LobbyEntry.created_at.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def denied_until(entry: LobbyEntry | None) -> datetime | None:
    """When a denied person may ask again, or None if they may ask now."""
    if entry is None or entry.status != LobbyStatus.DENIED or entry.decided_at is None:
        return None
    until = entry.decided_at + DENIAL_COOLDOWN
    return until if until > _now() else None


def address_denied_until(meeting: Meeting, occurrence_key: str, address: str) -> datetime | None:
    """When someone at `address` may ask again after a host turned a person there away."""
    if not address:
        return None
    query = sa.select(sa.func.max(LobbyEntry.decided_at)).where(
        LobbyEntry.meeting_id == meeting.id,
        LobbyEntry.occurrence_key == occurrence_key,
        LobbyEntry.address == address,
        LobbyEntry.status == LobbyStatus.DENIED,
    )
    latest = db.session.scalar(query)
    if latest is None:
        return None
    until = latest + DENIAL_COOLDOWN
    return until if until > _now() else None


def queue(
    meeting: Meeting,
    occurrence_key: str,
    identity: str,
    user: User | None,
    display_name: str,
    address: str = "",
) -> LobbyEntry:
    """The person's waiting entry: the one they already have, or a new one at the back."""
    entry = latest_entry(meeting, occurrence_key, identity)
    if entry is None or entry.status == LobbyStatus.DENIED:
        entry = LobbyEntry(
            meeting=meeting,
            occurrence_key=occurrence_key,
            identity=identity,
            user_id=user.id if user else None,
            display_name=display_name,
            address=address[:64],
        )
        db.session.add(entry)
    elif entry.status == LobbyStatus.WAITING:
        entry.display_name = display_name
        if entry.last_seen_at < _now() - SEEN_WITHIN:
            entry.created_at = _now()  # they left and came back: the back of the queue
    entry.last_seen_at = _now()
    db.session.commit()
    return entry


def seen(entry: LobbyEntry) -> None:
    entry.last_seen_at = _now()
    db.session.commit()


def _undecided(entry_id: str) -> bool:
    """Still waiting, in a meeting not ended, and not removed: nothing to tell the page yet."""
    entry = LobbyEntry
    same_occurrence = sa.and_(
        OccurrenceState.meeting_id == entry.meeting_id,
        OccurrenceState.occurrence_key == entry.occurrence_key,
    )
    same_person = sa.and_(
        Standing.meeting_id == entry.meeting_id,
        Standing.occurrence_key == entry.occurrence_key,
        Standing.identity == entry.identity,
    )
    query = (
        sa.select(entry.status, OccurrenceState.ended_at, Standing.removed_at)
        .outerjoin(OccurrenceState, same_occurrence)
        .outerjoin(Standing, same_person)
        .where(entry.id == entry_id)
    )
    row = db.session.execute(query).first()
    return row is not None and row[0] == LobbyStatus.WAITING and row[1] is None and row[2] is None


def wait_for_decision(entry: LobbyEntry, seconds: float) -> None:
    """Return once `entry` was decided (or its meeting ended, or its person was removed), or
    after `seconds`, keeping the entry seen meanwhile.

    Each check ends its transaction, so no database connection is held while asleep; this
    polls the row rather than waiting on an in-process event because the decision may be
    taken in another app process (and PostgreSQL or SQLite may be behind it).
    """
    entry_id = entry.id
    deadline = time.monotonic() + seconds
    next_beat = time.monotonic() + HEARTBEAT.total_seconds()
    while time.monotonic() < deadline:
        if time.monotonic() >= next_beat:
            next_beat += HEARTBEAT.total_seconds()
            db.session.execute(
                sa.update(LobbyEntry)
                .where(LobbyEntry.id == entry_id, LobbyEntry.status == LobbyStatus.WAITING)
                .values(last_seen_at=_now())
            )
            db.session.commit()
        undecided = _undecided(entry_id)
        db.session.rollback()  # ends the read: the connection goes back to the pool
        if not undecided:
            return
        time.sleep(CHECK_EVERY_SECONDS)


def waiting(meeting: Meeting, occurrence_key: str) -> list[LobbyEntry]:
    """People waiting now, first come first."""
    query = (
        sa.select(LobbyEntry)
        .where(
            LobbyEntry.meeting_id == meeting.id,
            LobbyEntry.occurrence_key == occurrence_key,
            LobbyEntry.status == LobbyStatus.WAITING,
            LobbyEntry.last_seen_at >= _now() - SEEN_WITHIN,
        )
        .order_by(LobbyEntry.created_at, LobbyEntry.id)
    )
    return list(db.session.scalars(query))


def position(entry: LobbyEntry) -> int:
    """1 for the first in line."""
    ahead = [
        other.id
        for other in waiting(entry.meeting, entry.occurrence_key)
        if (other.created_at, other.id) < (entry.created_at, entry.id)
    ]
    return len(ahead) + 1


def entry_by_id(meeting: Meeting, lobby_id: str) -> LobbyEntry | None:
    entry = db.session.get(LobbyEntry, lobby_id)
    return entry if entry is not None and entry.meeting_id == meeting.id else None


def decide(entry: LobbyEntry, admit: bool, by: User) -> None:
    entry.status = LobbyStatus.ADMITTED if admit else LobbyStatus.DENIED
    entry.decided_at = _now()
    entry.decided_by_id = by.id
    db.session.commit()


# ---- standings, lock and end -------------------------------------------------------------


def standing(meeting: Meeting, occurrence_key: str, identity: str) -> Standing | None:
    return db.session.scalar(
        sa.select(Standing).where(
            Standing.meeting_id == meeting.id,
            Standing.occurrence_key == occurrence_key,
            Standing.identity == identity,
        )
    )


def standing_for_update(meeting: Meeting, occurrence_key: str, identity: str) -> Standing:
    found = standing(meeting, occurrence_key, identity)
    if found is None:
        found = Standing(meeting_id=meeting.id, occurrence_key=occurrence_key, identity=identity)
        db.session.add(found)
    return found


def is_removed(meeting: Meeting, occurrence_key: str, identity: str) -> bool:
    found = standing(meeting, occurrence_key, identity)
    return found is not None and found.removed_at is not None


def occurrence_state(meeting: Meeting, occurrence_key: str) -> OccurrenceState | None:
    return db.session.scalar(
        sa.select(OccurrenceState).where(
            OccurrenceState.meeting_id == meeting.id,
            OccurrenceState.occurrence_key == occurrence_key,
        )
    )


def occurrence_state_for_update(meeting: Meeting, occurrence_key: str) -> OccurrenceState:
    found = occurrence_state(meeting, occurrence_key)
    if found is None:
        found = OccurrenceState(meeting_id=meeting.id, occurrence_key=occurrence_key)
        db.session.add(found)
    return found


def is_locked(meeting: Meeting, occurrence_key: str) -> bool:
    found = occurrence_state(meeting, occurrence_key)
    return found is not None and found.locked_at is not None


def reopen(decisions: "Decisions") -> None:
    """A host who comes back after ending a meeting starts it again."""
    found = decisions.occurrence
    if found is not None and found.ended_at is not None:
        found.ended_at = None
        # Ending deleted the room on the server; a memo written meanwhile is not to be trusted.
        found.room_provisioned_at = None
        db.session.commit()


# ---- everything a join checks, read once ------------------------------------------------


@dataclass(frozen=True)
class Decisions:
    """What hosts decided that a join checks: the occurrence's end, lock and room memo, and
    the person's standing and latest lobby entry. Three reads instead of one per question."""

    occurrence: OccurrenceState | None
    standing: Standing | None
    entry: LobbyEntry | None

    @property
    def ended(self) -> bool:
        return self.occurrence is not None and self.occurrence.ended_at is not None

    @property
    def locked(self) -> bool:
        return self.occurrence is not None and self.occurrence.locked_at is not None

    @property
    def guests_wait(self) -> bool:
        return self.occurrence is not None and self.occurrence.guests_wait_at is not None

    @property
    def removed(self) -> bool:
        return self.standing is not None and self.standing.removed_at is not None

    @property
    def promoted(self) -> bool:
        return self.standing is not None and self.standing.promoted

    @property
    def admitted(self) -> bool:
        return self.entry is not None and self.entry.status == LobbyStatus.ADMITTED

    def provisioned_since(self, since: datetime) -> bool:
        """Was the occurrence's room provisioned (and not ended) at or after `since`?"""
        found = self.occurrence
        return (
            found is not None
            and found.ended_at is None
            and found.room_provisioned_at is not None
            and found.room_provisioned_at >= since
        )


def of_person(meeting: Meeting, occurrence_key: str, identity: str) -> Decisions:
    return Decisions(
        occurrence_state(meeting, occurrence_key),
        standing(meeting, occurrence_key, identity),
        latest_entry(meeting, occurrence_key, identity),
    )


# ---- the room on the media server --------------------------------------------------------


def remember_provisioned(meeting: Meeting, occurrence_key: str, at: datetime) -> None:
    """Note that the room was provisioned at `at`, unless a host ended the occurrence.

    One upsert, so that concurrent joins on several app instances neither collide on the
    row's unique key nor bring back a memo that ending the meeting cleared.
    """
    table = OccurrenceState.__table__
    insert = insert_on_conflict(table).values(
        meeting_id=meeting.id, occurrence_key=occurrence_key, room_provisioned_at=at
    )
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.meeting_id, table.c.occurrence_key],
        set_={"room_provisioned_at": insert.excluded.room_provisioned_at},
        where=table.c.ended_at.is_(None),
    )
    db.session.execute(statement)
    db.session.commit()


def forget_provisioned(meeting: Meeting, occurrence_key: str) -> None:
    """The room is not on the server (any more): the next join creates it again."""
    found = occurrence_state(meeting, occurrence_key)
    if found is not None and found.room_provisioned_at is not None:
        found.room_provisioned_at = None
        db.session.commit()
