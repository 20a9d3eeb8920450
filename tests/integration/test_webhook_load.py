"""Load: 2,000 signed webhooks from 50 concurrent senders against the app as production runs
it (gunicorn, migrated database), a fifth of them repeated deliveries, each room's events
shuffled. Every distinct event is stored once and the derived records equal those of the
same events applied in order. Answer times are reported (tests/artifacts/webhook-load.json);
the speed target itself is checked by `make bench`, not here."""

import json

import sqlalchemy as sa

from config import TestingConfig
from meetings import create_app
from meetings.extensions import db
from meetings.models import MeetingSession, ProcessingResult, WebhookEvent
from tests.support.environment import ARTIFACTS
from tests.support.webhook_load import run_against, wait_until_derived
from tests.support.webhook_scenarios import apply_in_process, derived_snapshot

ROOMS, TOTAL, SENDERS = 37, 2000, 50  # 37 scripted rooms: about 1,600 distinct events


def in_order_snapshot(rooms, tmp_path) -> dict:
    """The same events, each room's in the order the server sent them, applied one by one
    to an empty database."""
    app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'o.db'}"})
    with app.app_context():
        db.create_all()
        for room in rooms:
            apply_in_process(room.events)
        snapshot = derived_snapshot()
        db.session.remove()
        db.engine.dispose()
    return snapshot


def test_a_burst_of_shuffled_and_repeated_webhooks(app_process, tmp_path):
    burst, outcome = run_against(app_process, ROOMS, TOTAL, SENDERS)
    derived_after = wait_until_derived(app_process)  # answers come before derivation
    report = outcome.summary() | {
        "derived_seconds_after_last_answer": round(derived_after, 2),
        "distinct_events": len(burst.distinct_ids),
        "deliveries": len(burst.deliveries),
        "senders": SENDERS,
        "database": app_process.database_url.split(":", 1)[0],
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "webhook-load.json").write_text(json.dumps(report, indent=2))
    print("\nwebhook load:", json.dumps(report))

    assert len(burst.deliveries) == TOTAL
    assert 0.18 <= 1 - len(burst.distinct_ids) / TOTAL <= 0.22  # about a fifth are repeats
    assert outcome.errors == []
    assert outcome.statuses == {200: TOTAL}
    # Each distinct event was answered "stored" exactly once; its repeats were not.
    assert sorted(outcome.stored) == sorted(burst.distinct_ids)

    app = app_process.app()
    with app.app_context():
        stored = db.session.execute(sa.select(WebhookEvent.id, WebhookEvent.result)).all()
        assert sorted(event_id for event_id, _ in stored) == sorted(burst.distinct_ids)
        assert ProcessingResult.FAILED not in {result for _, result in stored}
        loaded = derived_snapshot()
        query = sa.select(MeetingSession.room_sid, MeetingSession.peak_participants)
        peaks = {sid: peak for sid, peak in db.session.execute(query)}
        db.session.remove()
        db.engine.dispose()
    assert loaded == in_order_snapshot(burst.rooms, tmp_path)
    # ...and both equal what the scripted meetings really did.
    assert peaks == {room.sid: room.expected_peak() for room in burst.rooms}
    for room in burst.rooms:
        for interval in room.attended:
            row = loaded["attendance"][interval.participant_sid]
            assert (row[3].timestamp(), row[4].timestamp()) == (interval.joined, interval.left)
