"""Captions when the speech-to-text server fails (STT=openai): "unavailable" for the room, the
worker and the meeting go on, what was captioned stays reported, and captions come back."""

import signal
import threading
import time

from meetings.livekit_process import free_port
from tests.support.environment import require
from tests.support.speech import have_flite
from tests.support.waiting import wait_for
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
        speaking = threading.Thread(
            target=room.say, args=("ann", "please send me the report before the end of the week")
        )
        speaking.start()
        # SIGTERM (a deploy) mid-sentence: once the room shows its first three words (on a busy
        # machine seconds after the speech went out); the final may still revise the last one.
        wait_for(
            lambda: any(len(c.text.split()) >= 3 for c in room.interims()),
            30,
            what=lambda: (
                f"the sentence's first words in the room; it showed {room.captions}, "
                f"the worker reported {room_stack.sink.of(room.job_id)}"
            ),
        )
        worker.signal(signal.SIGTERM)
        speaking.join()
        (segment,) = room.wait_segments(1)
        assert worker.wait_exit(40) == 0
        # Still in the room when it finished: the room sees the final too (through the SFU,
        # so it may arrive after the app's copy).
        shown = wait_for(
            lambda: room.finals(), 10, what=lambda: f"the final in the room: {room.captions}"
        )
    assert segment["text"].split()[:2] == ["please", "send"], segment
    assert [(c.identity, c.text) for c in shown] == [("ann", segment["text"])]
