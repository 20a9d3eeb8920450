"""The app is killed (SIGKILL, no goodbye) in the middle of a burst of webhooks and started
again: every event it had answered 2xx is in the database, and once the senders have
retried what failed (as LiveKit does), every event is stored exactly once."""

import threading

import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import WebhookEvent
from tests.support.app_process import AppProcess
from tests.support.webhook_load import Outcome, make_meetings, prepare, send, wait_until_derived
from tests.support.webhook_scenarios import derived_snapshot

CRASH_AFTER = 250  # answers


def stored_ids(process: AppProcess) -> list[str]:
    app = process.app()
    with app.app_context():
        ids = list(db.session.scalars(sa.select(WebhookEvent.id)))
        db.session.remove()
        db.engine.dispose()
    return ids


def test_nothing_answered_2xx_is_lost_when_the_app_crashes(app_process):
    names = make_meetings(app_process.app(), 12)
    burst = prepare(names, 650, app_process.api_key, app_process.api_secret, seed=8)
    outcome = Outcome()
    crashed = threading.Event()
    report: dict = {}

    def crash_and_restart() -> None:
        app_process.kill()
        with outcome.lock:
            report["answered_before_crash"] = set(outcome.answered_2xx)
        report["stored_after_crash"] = set(stored_ids(app_process))
        app_process.start()

    restarter = threading.Thread(target=crash_and_restart)

    def crash_midway(answers: int) -> None:
        if answers >= CRASH_AFTER and not crashed.is_set():
            crashed.set()
            restarter.start()

    send(app_process.port, burst.deliveries, senders=20, on_answer=crash_midway, outcome=outcome)
    restarter.join()

    answered = report["answered_before_crash"]
    assert 0.2 * len(burst.distinct_ids) < len(answered) < len(burst.distinct_ids)  # mid-burst
    assert answered - report["stored_after_crash"] == set()
    assert outcome.failures > 0  # some deliveries met the dead app and were sent again
    assert outcome.errors == []
    ids = stored_ids(app_process)
    assert sorted(ids) == sorted(burst.distinct_ids)  # each once, none missing
    # Events the killed process stored but had not derived are derived by the new one.
    wait_until_derived(app_process)

    app = app_process.app()
    with app.app_context():
        snapshot = derived_snapshot()
        db.session.remove()
        db.engine.dispose()
    sessions = snapshot["sessions"]
    assert {sid: row[3] for sid, row in sessions.items()} == {
        room.sid: room.expected_peak() for room in burst.rooms
    }
