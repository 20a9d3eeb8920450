"""Captions when the speech-to-text server fails (STT=openai): "unavailable" for the room, the
worker and the meeting go on, what was captioned stays reported, and captions come back."""

import signal
import threading
import time

from meetings.livekit_process import free_port
from tests.support.environment import require
from tests.support.speech import have_flite
from tests.worker.captions_room import CaptionsRoom, participants
from tests.worker.stt_server import SttServer

SECRET_KEY = "sk-never-in-the-logs-4f1d"


def test_stt_server_down_then_back_then_failing(room_stack, start_worker):
    require(have_flite(), "flite (Debian package)")
    server = SttServer(port=free_port(), text="we will meet again on friday")
    worker = start_worker(
        {
            "MEETINGS_WORKER_JOBS": "captions",
            "STT": "openai",
            "STT_URL": server.url,  # nothing listens there yet
            "STT_API_KEY": SECRET_KEY,
        }
    )
    try:
        with CaptionsRoom(room_stack, {"ann": "Ann Example"}) as room:
            room.dispatch()
            # Down from the start: said before anyone speaks, and speech then costs nothing.
            down = room.wait_status("unavailable")["data"]
            assert down["reason"].startswith("STT server failed: APIConnectionError"), down
            room.say("ann", "the weather was cold and windy so we stayed inside all day")
            time.sleep(1)
            assert not room.events("caption_segment")
            assert f"captions-{room.job_id}" in participants(room_stack, room.name)

            # Back, with nobody speaking: the worker asks the server and says so.
            server.start()
            room.wait_status("running", timeout=20)
            said = room.say("ann", "we will meet again on friday to look at the results")
            (segment,) = room.wait_segments(1)
            assert (segment["identity"], segment["text"]) == ("ann", server.text)
            assert said.started - room.origin - 1 <= segment["start"] < segment["end"]
            (request,) = server.received
            assert request.authorization == f"Bearer {SECRET_KEY}"
            assert request.fields["model"] == "whisper-1" and request.wav[:4] == b"RIFF"

            # Failing mid-meeting: unavailable again; what was captioned before stays.
            server.mode = "fail"
            room.say("ann", "please send me the report before the end of the week")
            room_stack.sink.wait(
                lambda: len(room.events("captions_status")) >= 3, 20, "a second unavailable"
            )
            time.sleep(1)
            assert worker.process.poll() is None
            assert f"captions-{room.job_id}" in participants(room_stack, room.name)
            shown = [(c.identity, c.text) for c in room.finals()]
    finally:
        server.stop()

    statuses = [(e["kind"], e["data"].get("status")) for e in room_stack.sink.of(room.job_id)]
    assert statuses == [
        ("captions_status", "unavailable"),
        ("captions_status", "running"),
        ("caption_segment", None),
        ("captions_status", "unavailable"),
    ]
    assert room.events("captions_status")[-1]["reason"] == "STT server failed: HTTP 500"
    assert shown == [("ann", server.text)]
    assert worker.process.poll() is None  # the worker never crashed
    assert SECRET_KEY not in worker.log()


def test_a_worker_stopping_mid_sentence_finishes_what_was_said(room_stack, start_worker):
    require(have_flite(), "flite (Debian package)")
    worker = start_worker({"MEETINGS_WORKER_JOBS": "captions"})
    with CaptionsRoom(room_stack, {"ann": "Ann Example"}) as room:
        room.dispatch()
        room.wait_status("running")
        # SIGTERM (a deploy) mid-sentence: the speech leaves up to 1 s after say() starts.
        stop = threading.Timer(3.0, worker.signal, (signal.SIGTERM,))
        stop.start()
        room.say("ann", "please send me the report before the end of the week", "slt")
        stop.join()
        (segment,) = room.wait_segments(1)
        assert worker.wait_exit(40) == 0
        shown = room.finals()
    assert segment["text"].split()[:2] == ["please", "send"], segment
    # Still in the room when it finished: the room saw the final too.
    assert [(c.identity, c.text) for c in shown] == [("ann", segment["text"])]
