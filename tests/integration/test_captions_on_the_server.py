"""Live captions' faults with the live app, the real livekit-server and real media workers: a
captioner whose worker dies is dispatched again, once, to another worker, and what was said
before the failure stays in the transcript."""

import pytest

from tests.integration.test_recordings_on_the_server import schedule
from tests.support.captions import transcript_of
from tests.support.media_worker import WorkerProcess
from tests.support.speech import LOADED_QUEUE_MS, Microphone, flite_wav, word_error_rate
from tests.support.synthetic import BackgroundParticipants
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.livekit, pytest.mark.media_worker]

BEFORE = "please remember to bring your notes and the budget for next year"
AFTER = "the children played in the garden until it was time for dinner"


def segments_heard(stack, room: str, count: int):
    return wait_for(
        lambda: (t := transcript_of(stack, room)) and len(t.segments) >= count and t,
        timeout=40,
        what=lambda: f"{count} stored segments: {transcript_of(stack, room)!r}",
    )


def test_a_lost_captioner_is_dispatched_again_and_nothing_said_before_is_lost(
    live_stack, media_worker, tmp_path
):
    session_worker = media_worker.ensure_running()
    spare = WorkerProcess(
        live_stack.livekit_config,
        live_stack.base_url,
        tmp_path / "spare-worker.log",
        tmp_path / "recordings",
        env={"MEETINGS_WORKER_JOBS": "captions"},
    ).wait_registered()
    slug, room, host, _ = schedule(live_stack)
    status, ticket = live_stack.http(
        "POST", f"/api/v1/meetings/{slug}/tokens", {"display_name": "Sam Speaker"}
    )
    assert status == 201, ticket
    try:
        with BackgroundParticipants([ticket]) as people:
            mic = people.call(lambda rooms: Microphone.publish(rooms[0], queue_ms=LOADED_QUEUE_MS))
            path = f"/api/v1/meetings/{slug}/captions"
            status, answer = live_stack.http("POST", path, {"enabled": True}, host)
            assert status == 200, answer
            first = wait_for(
                lambda: (t := transcript_of(live_stack, room)) and t.status == "running" and t,
                timeout=30,
                what=lambda: f"captions running: {transcript_of(live_stack, room)!r}",
            )
            people.call(lambda rooms: mic.say(flite_wav(BEFORE)))
            segments_heard(live_stack, room, 1)

            # The worker holding the captioner dies (SIGKILL, as the OOM killer would).
            holder = next(w for w in (session_worker, spare) if room in w.log())
            if holder is spare:
                spare.signal(9, group=True)
            else:
                media_worker.kill()
            again = wait_for(
                lambda: (
                    (t := transcript_of(live_stack, room))
                    and t.redispatched
                    and t.job_id != first.job_id
                    and t.status == "running"
                    and t
                ),
                timeout=60,
                what=lambda: f"a second captioner: {transcript_of(live_stack, room)!r}",
            )
            survivor = spare if holder is not spare else session_worker
            assert room in survivor.log()
            people.call(lambda rooms: mic.say(flite_wav(AFTER)))
            row = segments_heard(live_stack, room, 2)
            people.call(lambda rooms: mic.aclose())
    finally:
        spare.stop()

    assert again.room_name == room
    said = " ".join(segment.text for segment in row.segments)
    assert word_error_rate(f"{BEFORE} {AFTER}", said) < 0.25, said
    assert {segment.display_name for segment in row.segments} == {"Sam Speaker"}
