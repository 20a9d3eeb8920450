"""The built-in recorder's faults, with the live app, the real livekit-server and a real media
worker: a worker killed mid-recording, and a start when no worker is running."""

import io
import time
from datetime import UTC, datetime

import av
import pytest

from meetings import livekit_gateway as gateway
from meetings.recordings import builtin, explain
from tests.integration.test_recordings_on_the_server import fetch, recordings_of, schedule
from tests.support.live import run_in_thread
from tests.support.waiting import wait_for
from tests.worker.participants import ParticipantsProcess

pytestmark = [pytest.mark.livekit, pytest.mark.media_worker]


def join_someone(stack, slug: str, room: str, host: dict) -> ParticipantsProcess:
    """The room provisioned by the app (a ticket), and one person in it: a colour and a tone."""
    assert stack.http("POST", f"/api/v1/meetings/{slug}/tokens", {}, host)[0] == 201
    config = stack.livekit_config
    person = {"room": room, "identity": "g-someone", "colour": (0, 160, 0), "tone": 440}
    return ParticipantsProcess(config.ws_url, config.api_key, config.api_secret, [person])


def only_recording(stack, slug: str, host: dict) -> dict:
    [row] = recordings_of(stack, slug, host)
    return row


def test_a_killed_worker_leaves_a_failed_recording_whose_partial_file_plays(
    live_stack, builtin_recorder, media_worker
):
    slug, room, host, _ = schedule(live_stack)
    person = join_someone(live_stack, slug, room, host)
    try:
        status, answer = live_stack.http("POST", f"/api/v1/meetings/{slug}/recordings", {}, host)
        assert status == 201, answer
        wait_for(
            lambda: (only_recording(live_stack, slug, host)["duration_seconds"] or 0) >= 5,
            timeout=40,
            what=lambda: f"5 s recorded: {only_recording(live_stack, slug, host)}",
        )
        started_at = only_recording(live_stack, slug, host)["started_at"]
        since_start = datetime.now(UTC) - datetime.fromisoformat(started_at)
        time.sleep(max(0.0, 6 - since_start.total_seconds()))
        media_worker.kill()  # 6 s into the recording
        row = wait_for(
            lambda: (r := only_recording(live_stack, slug, host))["status"] == "failed" and r,
            timeout=90,
            what=lambda: f"the recording to fail: {only_recording(live_stack, slug, host)}",
        )
    finally:
        person.close()

    assert row["error"] == explain.LOST_WITH_PART
    assert row["media_url"], "the partial file is offered"
    status, _headers, media = fetch(live_stack.base_url + row["media_url"], host)
    assert status == 200
    with av.open(io.BytesIO(media)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        ends = [
            float((packet.pts + (packet.duration or 0)) * packet.time_base)
            for packet in container.demux()
            if packet.pts is not None
        ]
    assert max(ends) >= 3.0, f"the partial file holds {max(ends):.1f} s"


def test_a_start_with_no_worker_running_fails_at_once_and_says_why(
    live_stack, builtin_recorder, media_worker, monkeypatch
):
    slug, room, host, _ = schedule(live_stack)
    media_worker.stop()
    # Its last heartbeat is still recent; a worker is taken for gone this long after it.
    monkeypatch.setitem(live_stack.app.config, "RECORDER_HEARTBEAT_SECONDS", 1)
    time.sleep(1.5)
    assert live_stack.http("POST", f"/api/v1/meetings/{slug}/tokens", {}, host)[0] == 201

    status, answer = live_stack.http("POST", f"/api/v1/meetings/{slug}/recordings", {}, host)

    assert status == 503
    assert answer["error"]["message"] == explain.NO_RECORDER_RUNNING
    assert only_recording(live_stack, slug, host)["status"] == "failed"
    # Refused before asking the server for a recorder: no job left to start by surprise later,
    # and no wait for a worker that is not there.
    dispatches = run_in_thread(lambda: live_stack.query(lambda: gateway.list_dispatches(room)))
    assert [d for d in dispatches if d.agent_name == builtin.AGENT_NAME] == []
