"""A burst of signed webhooks from many concurrent senders, timed per request. Used by the
load test (tests/integration) and by `make bench`."""

import http.client
import json
import math
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from meetings.auth import services as auth_services
from meetings.extensions import db
from meetings.models import Meeting
from meetings.scheduling import recurrence as rec
from tests.support.app_process import AppProcess, Sender
from tests.support.waiting import wait_until_drained
from tests.support.webhook_factory import sign, to_body
from tests.support.webhook_scenarios import RoomScript, delivery_plan, script_room

WEBHOOK_PATH = "/livekit/webhook"


@dataclass(frozen=True)
class Delivery:
    event_id: str
    room: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Burst:
    rooms: list[RoomScript]
    deliveries: list[Delivery]
    distinct_ids: set[str]


def make_meetings(app, count: int) -> list[str]:
    """`count` meetings held two hours ago in the app's database; their room names."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
    with app.app_context():
        host = auth_services.create_user(
            f"load-{time.monotonic_ns()}@example.com",
            "Load Host",
            "a-long-password",
            email_verified=True,
        )
        meetings = [
            Meeting(
                title=f"Load {number}",
                starts_at=start,
                duration_minutes=120,
                series_ends_at=start + timedelta(minutes=120),
                host=host,
                lobby=False,
            )
            for number in range(count)
        ]
        db.session.add_all(meetings)
        db.session.commit()
        names = [rec.occurrences(meeting)[0].room_name for meeting in meetings]
        db.session.remove()
        db.engine.dispose()  # no pooled connection outlives this app
        return names


def prepare(room_names: list[str], total: int, key: str, secret: str, seed: int = 2026) -> Burst:
    """Scripted meetings in those rooms; `total` deliveries with each room's events
    shuffled and duplicates (LiveKit's retries) making up the difference; all signed now."""
    rng = random.Random(seed)
    start = int((datetime.now(UTC) - timedelta(hours=2)).timestamp())
    rooms = [script_room(name, start + 30 * n, rng) for n, name in enumerate(room_names)]
    plan, distinct = delivery_plan(rooms, total, rng)
    deliveries = []
    for event in plan:
        body = to_body(event)
        headers = {
            "Content-Type": "application/webhook+json",
            "Authorization": sign(body, key, secret),
        }
        room = event.room.name or event.egress_info.room_name
        deliveries.append(Delivery(event.id, room, body.encode(), headers))
    return Burst(rooms, deliveries, {event.id for event in distinct})


@dataclass
class Outcome:
    """What the senders saw: every answer, its time, and what the app said about storing."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    stored: list[str] = field(default_factory=list)  # ids answered {"stored": true}
    answered_2xx: set[str] = field(default_factory=set)
    failures: int = 0  # connection errors, retried
    errors: list[str] = field(default_factory=list)  # deliveries that never got through
    wall_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, delivery: "Delivery", status: int, body: bytes, took: float) -> None:
        """One answer; the caller holds `lock`."""
        self.latencies.append(took)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            self.answered_2xx.add(delivery.event_id)
            if json.loads(body).get("stored"):
                self.stored.append(delivery.event_id)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]  # nearest rank

    def summary(self) -> dict:
        def ms(seconds: float) -> float:
            return round(seconds * 1000, 1)

        return {
            "requests": len(self.latencies),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "p50_ms": ms(self.percentile(50)),
            "p95_ms": ms(self.percentile(95)),
            "p99_ms": ms(self.percentile(99)),
            "max_ms": ms(max(self.latencies, default=0.0)),
            "wall_seconds": round(self.wall_seconds, 2),
            "requests_per_second": round(len(self.latencies) / self.wall_seconds, 1)
            if self.wall_seconds
            else 0,
            "retried_after_connection_errors": self.failures,
        }


def send(
    port: int,
    deliveries: list[Delivery],
    senders: int = 50,
    on_answer: Callable[[int], None] | None = None,
    retry_for: float = 60.0,
    outcome: Outcome | None = None,
) -> Outcome:
    """Deliver everything from `senders` threads, each on its own keep-alive connection.

    Like LiveKit, a delivery that meets a connection error or a 5xx is tried again (here
    every 0.1 s for up to `retry_for` seconds); any other answer counts as delivered.
    `on_answer(n)` is called with the number of answers so far, from the sender threads.
    """
    work: queue.Queue[Delivery] = queue.Queue()
    for delivery in deliveries:
        work.put(delivery)
    outcome = outcome or Outcome()
    lock = outcome.lock

    def sender() -> None:
        connection = Sender(port)
        while True:
            try:
                delivery = work.get_nowait()
            except queue.Empty:
                break
            deadline = time.monotonic() + retry_for
            while True:
                began = time.perf_counter()
                try:
                    status, body = connection.post(WEBHOOK_PATH, delivery.body, delivery.headers)
                except (OSError, http.client.HTTPException):
                    status, body = None, b""
                took = time.perf_counter() - began
                if status is not None and status < 500:
                    break
                with lock:
                    outcome.failures += 1
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            if status is None or status >= 500:
                with lock:
                    outcome.errors.append(f"{delivery.event_id}: {status or 'no answer'}")
                continue
            with lock:
                outcome.record(delivery, status, body, took)
                answers = len(outcome.latencies)
            if on_answer is not None:
                on_answer(answers)
        connection.close()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    return _run_senders(threads, outcome, time.perf_counter())


def run_against(process: AppProcess, rooms: int, total: int, senders: int) -> tuple[Burst, Outcome]:
    """Make the meetings, prepare the burst, deliver it to a started app process."""
    names = make_meetings(process.app(), rooms)
    burst = prepare(names, total, process.api_key, process.api_secret)
    return burst, send(process.port, burst.deliveries, senders)


def wait_until_derived(process: AppProcess) -> float:
    """Wait until the app's derivers have applied every stored event (none pending), as long
    as they make progress; returns how many seconds that took after the call."""
    from meetings.webhooks import apply as deriver

    app = process.app()

    def pending() -> int:
        db.session.rollback()  # a fresh snapshot each time
        return deriver.pending_count()

    try:
        with app.app_context():
            return wait_until_drained(pending, "stored webhook events to derive")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def send_paced(port: int, deliveries: list[Delivery], senders: int, rate: float) -> Outcome:
    """Open-loop delivery at `rate` per second overall, the way LiveKit sends: one serial
    queue per room (rooms spread over `senders` threads), each delivery due at its turn in
    the plan. Latencies are answer times (request sent to answer read); a sender that is
    still busy when its next delivery is due sends it late, as LiveKit's queue would."""
    queues: list[list[tuple[float, Delivery]]] = [[] for _ in range(senders)]
    rooms: dict[str, int] = {}
    for index, delivery in enumerate(deliveries):
        lane = rooms.setdefault(delivery.room, len(rooms) % senders)
        queues[lane].append((index / rate, delivery))
    outcome = Outcome()
    lock = outcome.lock
    began = time.perf_counter()

    def sender(lane: list[tuple[float, Delivery]]) -> None:
        connection = Sender(port)
        for due, delivery in lane:
            wait = began + due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sent = time.perf_counter()
            try:
                status, body = connection.post(WEBHOOK_PATH, delivery.body, delivery.headers)
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    outcome.errors.append(f"{delivery.event_id}: {error}")
                continue
            took = time.perf_counter() - sent
            with lock:
                outcome.record(delivery, status, body, took)
        connection.close()

    threads = [threading.Thread(target=sender, args=(lane,)) for lane in queues if lane]
    return _run_senders(threads, outcome, began)


def _run_senders(threads: list[threading.Thread], outcome: Outcome, began: float) -> Outcome:
    """Run the sender threads to their end; `outcome` with the wall time since `began`."""
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.wall_seconds = time.perf_counter() - began
    return outcome
