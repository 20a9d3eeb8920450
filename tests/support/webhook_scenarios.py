"""Whole meetings as LiveKit would report them: the events in order, and what really happened.

Used by the unit tests of order tolerance, the load test and `bench/`. Everything is
deterministic for a given seed.
"""

import random
from dataclasses import dataclass, field

import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import Attendance, MeetingSession, TrackPublication
from meetings.webhooks import apply as deriver
from meetings.webhooks import store as services
from tests.support.webhook_factory import (
    egress_event,
    participant_event,
    room_event,
    to_body,
    track_event,
)

SOURCES = (("AUDIO", "MICROPHONE"), ("VIDEO", "CAMERA"), ("VIDEO", "SCREEN_SHARE"))


@dataclass
class Interval:
    identity: str
    name: str
    participant_sid: str
    joined: int
    left: int
    aborted: bool = False


@dataclass
class RoomScript:
    """One room's life: its events in the order the server sends them, and the truth."""

    name: str
    sid: str
    started: int
    finished: int
    intervals: list[Interval] = field(default_factory=list)
    events: list = field(default_factory=list)

    @property
    def attended(self) -> list[Interval]:
        return [interval for interval in self.intervals if not interval.aborted]

    def expected_peak(self) -> int:
        """Most distinct people present at once, counted at every join (brute force)."""
        return max(
            (
                len(
                    {
                        other.identity
                        for other in self.attended
                        if other.joined <= moment.joined < other.left
                    }
                )
                for moment in self.attended
            ),
            default=0,
        )


def script_room(name: str, start: int, rng: random.Random, people: int = 7) -> RoomScript:
    """A room where `people` join and leave at different times, publish tracks, and one of
    them reconnects; some rooms also see an aborted connection and a recording."""
    sid = f"RM_{name[-20:]}"
    room = RoomScript(name=name, sid=sid, started=start, finished=0)
    timed: list[tuple[int, int, object]] = []  # (time, tie-breaker, event)
    order = iter(range(10_000))

    def add(at: int, event) -> None:
        timed.append((at, next(order), event))

    def attend(identity: str, person_name: str, psid: str, joined: int, left: int) -> None:
        room.intervals.append(Interval(identity, person_name, psid, joined, left))
        common = {"room_sid": sid, "creation_time": start}
        add(
            joined,
            participant_event(
                "participant_joined",
                name,
                identity,
                psid,
                name=person_name,
                joined_at=joined,
                created_at=joined,
                **common,
            ),
        )
        for index, (kind, source) in enumerate(rng.sample(SOURCES, rng.randint(1, 2))):
            track_sid = f"TR_{psid}_{index}"
            published = joined + 1 + index
            add(
                published,
                track_event(
                    "track_published",
                    name,
                    identity,
                    psid,
                    track_sid,
                    track_type=kind,
                    source=source,
                    created_at=published,
                    room_sid=sid,
                ),
            )
            add(
                left,
                track_event(
                    "track_unpublished",
                    name,
                    identity,
                    psid,
                    track_sid,
                    track_type=kind,
                    source=source,
                    created_at=left,
                    room_sid=sid,
                ),
            )
        add(
            left,
            participant_event(
                "participant_left",
                name,
                identity,
                psid,
                name=person_name,
                joined_at=joined,
                created_at=left,
                **common,
            ),
        )

    add(start, room_event("room_started", name, sid=sid, creation_time=start, created_at=start))
    for number in range(people):
        joined = start + rng.randint(1, 900)
        left = joined + rng.randint(5, 2400)
        identity, person_name = f"g-{number}", f"Person {number}"
        attend(identity, person_name, f"PA_{sid}_{number}", joined, left)
        if number == 0:  # reconnects later with a new participant sid
            back = left + rng.randint(1, 120)
            attend(identity, person_name, f"PA_{sid}_{number}b", back, back + rng.randint(5, 600))
    if rng.random() < 0.5:
        aborted_at = start + rng.randint(1, 600)
        psid = f"PA_{sid}_x"
        room.intervals.append(
            Interval("g-x", "Never connected", psid, aborted_at, aborted_at, True)
        )
        add(
            aborted_at + 10,
            participant_event(
                "participant_connection_aborted",
                name,
                "g-x",
                psid,
                name="Never connected",
                joined_at=aborted_at,
                created_at=aborted_at + 10,
                room_sid=sid,
                creation_time=start,
            ),
        )
    room.finished = max(interval.left for interval in room.intervals) + 20
    if rng.random() < 0.25:  # a recording: keyed by egress id, no order with the room
        egress_id = f"EG_{sid}"
        add(start + 5, egress_event("egress_started", name, egress_id, room_sid=sid))
        add(
            room.finished,
            egress_event("egress_ended", name, egress_id, status="EGRESS_COMPLETE", room_sid=sid),
        )
    add(
        room.finished,
        room_event("room_finished", name, sid=sid, creation_time=start, created_at=room.finished),
    )
    room.events = [event for _at, _tie, event in sorted(timed, key=lambda item: item[:2])]
    return room


def delivery_plan(rooms: list[RoomScript], total: int, rng: random.Random) -> tuple[list, list]:
    """Every room's events shuffled, rooms interleaved, and duplicates added until `total`
    deliveries. Returns (deliveries, distinct events)."""
    distinct = [event for room in rooms for event in room.events]
    duplicates = [rng.choice(distinct) for _ in range(max(0, total - len(distinct)))]
    deliveries = []
    for room in rooms:
        shuffled = list(room.events)
        rng.shuffle(shuffled)
        deliveries.extend(shuffled)
    deliveries.extend(duplicates)
    rng.shuffle(deliveries)
    return deliveries, distinct


def derived_snapshot() -> dict:
    """Everything derived from the ledger, keyed by LiveKit ids (not our row ids), so that
    two databases fed the same events in different orders can be compared."""
    sessions = {
        s.room_sid: (
            s.room_name,
            s.started_at,
            s.ended_at,
            s.peak_participants,
            s.total_participants,
            s.participant_seconds,
            s.end_inferred,
        )
        for s in db.session.scalars(sa.select(MeetingSession))
    }
    rooms_by_id = {
        row.id: row.room_sid
        for row in db.session.execute(sa.select(MeetingSession.id, MeetingSession.room_sid))
    }
    attendance = {
        a.participant_sid: (
            rooms_by_id.get(a.session_id),
            a.identity,
            a.display_name,
            a.joined_at,
            a.left_at,
            a.seconds,
            a.aborted,
        )
        for a in db.session.scalars(sa.select(Attendance))
    }
    tracks = {
        t.track_sid: (
            rooms_by_id.get(t.session_id),
            t.participant_sid,
            t.kind,
            t.source,
            t.published_at,
            t.unpublished_at,
        )
        for t in db.session.scalars(sa.select(TrackPublication))
    }
    return {"sessions": sessions, "attendance": attendance, "tracks": tracks}


def apply_in_process(events) -> None:
    """Store and derive each event as the endpoint does, without HTTP and before returning."""
    for event in events:
        if services.store_event(event, to_body(event)):
            deriver.derive_events([event.id])
