"""Live captions against a real livekit-server and a real worker process: synthetic people say
flite sentences, a listener in the room reads the captions, the app's side gets the events."""

import threading
import time
from collections.abc import Iterator

import psutil
import pytest

from meetings.worker.captioner import EMPTY_GRACE_SECONDS
from tests.support.environment import require
from tests.support.media_worker import WorkerProcess
from tests.support.speech import have_flite, word_error_rate
from tests.worker.captions_room import LISTENER, CaptionsRoom, participants

pytestmark = pytest.mark.livekit

SENTENCES = [
    "please remember to bring your notes and the budget for next year",
    "the children played in the garden until it was time for dinner",
    "he drove the car to the station and waited for the train",
    "can you please call me back when you have a free moment",
]
SETTLE_SECONDS = 1.5  # after a sentence's first final: a pause may have split it in two


@pytest.fixture(scope="module")
def captions_worker(stack, tmp_path_factory) -> Iterator[WorkerProcess]:
    """One worker serving captions (PocketSphinx) for the tests of this module."""
    require(have_flite(), "flite (Debian package)")
    log = stack.workdir / "captions-worker.log"
    worker = WorkerProcess(
        stack.config,
        stack.app_url,
        log,
        tmp_path_factory.mktemp("captions-recordings"),
        # Jobs overlap here: each stays EMPTY_GRACE_SECONDS after its room emptied.
        {"MEETINGS_WORKER_JOBS": "captions", "MEETINGS_WORKER_MAX_JOBS": "4"},
    )
    try:
        worker.wait_registered()
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def captions_room(room_stack, captions_worker) -> Iterator[type[CaptionsRoom]]:
    yield CaptionsRoom


def say_and_wait(room: CaptionsRoom, identity: str, text: str, voice: str) -> None:
    before = len(room.events("caption_segment"))
    room.say(identity, text, voice)
    room.wait_segments(before + 1)
    time.sleep(SETTLE_SECONDS)


def job_cpu_seconds(worker: WorkerProcess) -> dict[int, float]:
    """CPU time so far (user and system) of each of the worker's job processes."""
    used = {}
    for child in psutil.Process(worker.process.pid).children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        used[child.pid] = times.user + times.system
    return used


def busiest(before: dict[int, float], after: dict[int, float]) -> float:
    """The CPU seconds used between two readings by the busiest job process (the job's)."""
    return max(after[pid] - before.get(pid, 0.0) for pid in after)


def assert_heard(room) -> None:
    """The finals match the script with a word error rate under 25%, over the whole script
    (one misheard word in a 12-word sentence is already 25%; a loaded machine makes one)."""
    script = " ".join(said.text for said in room.said)
    heard = " ".join(s["text"] for said in room.said for s in room.segments_of(said))
    assert word_error_rate(script, heard) < 0.25, (script, heard)


def test_sentences_are_captioned_in_the_room_and_reported(
    room_stack, captions_worker, record_property
):
    with CaptionsRoom(room_stack, {"ann": "Ann Example"}) as room:
        room.dispatch()
        running = room.wait_status("running")
        assert running["data"] == {"status": "running", "reason": ""}
        cpu_before, clock_before = job_cpu_seconds(captions_worker), time.monotonic()
        for text in SENTENCES[:2]:
            say_and_wait(room, "ann", text, "slt")
        cpu = busiest(cpu_before, job_cpu_seconds(captions_worker))
        wall = time.monotonic() - clock_before
        mic_sid = room.mics["ann"].track_sid
        finals, interims = room.finals(), room.interims()

    segments = room.events("caption_segment")
    assert_heard(room)
    for said in room.said:
        mine = room.segments_of(said)
        spoken = (said.started - room.origin, said.ended - room.origin)
        assert spoken[0] - 1 <= mine[0]["start"] < mine[-1]["end"] <= spoken[1] + 1.5, (
            spoken,
            mine,
        )
    assert sum(len(room.segments_of(s)) for s in room.said) == len(segments)
    for segment in segments:
        assert set(segment) == {"segment_id", "identity", "display_name", "start", "end", "text"}
        assert (segment["identity"], segment["display_name"]) == ("ann", "Ann Example")
        assert segment["segment_id"] and segment["text"]
        assert segment["start"] == round(segment["start"], 2)

    # The listener saw the same finals, sent on the speaker's behalf, and interims before.
    assert [(c.segment_id, c.text) for c in finals] == [
        (s["segment_id"], s["text"]) for s in segments
    ]
    assert {(c.identity, c.track_id) for c in finals + interims} == {("ann", mic_sid)}
    assert interims, "interim captions arrive while a sentence is spoken"
    assert {c.segment_id for c in interims} <= {c.segment_id for c in finals}

    # End of a sentence to its (last) final in the room and to its event leaving the worker;
    # the job processes' CPU while it listened. Printed for `pytest -s` and the bench notes.
    for number, said in enumerate(room.said):
        last = room.segments_of(said)[-1]
        shown = next(c for c in finals if c.segment_id == last["segment_id"])
        event = next(e for e in room_stack.sink.of(room.job_id) if e["data"] == last)
        latency = shown.received - said.ended
        record_property(f"caption_latency_{number}", round(latency, 2))
        print(
            f"captions: sentence {number}: {latency:.2f} s to the room,"
            f" {event['at'] - said.ended:.2f} s to the event"
        )
        # Within a few seconds even on a loaded machine; the speed target (a median under
        # 1.5 s) is make bench's `captions`, not a test's.
        assert latency < 10
    record_property("captions_job_cpu", round(cpu / wall, 3))
    print(f"captions: the job process used {cpu:.2f} s of CPU in {wall:.1f} s")


def test_two_people_speaking_in_turn_are_told_apart(room_stack, captions_worker):
    people = {"ann": "Ann Example", "bob": "Bob Example"}
    with CaptionsRoom(room_stack, people) as room:
        room.dispatch()
        room.wait_status("running")
        say_and_wait(room, "ann", SENTENCES[2], "slt")
        say_and_wait(room, "bob", SENTENCES[3], "rms")
        finals = room.finals()

    for said in room.said:
        mine = room.segments_of(said)
        assert {(s["identity"], s["display_name"]) for s in mine} == {
            (said.identity, people[said.identity])
        }
    assert_heard(room)
    assert {c.identity for c in finals} == {"ann", "bob"}
    assert LISTENER not in {s["identity"] for s in room.events("caption_segment")}


def test_a_muted_microphone_is_not_listened_to(room_stack, captions_worker):
    with CaptionsRoom(room_stack, {"ann": "Ann Example"}) as room:
        room.dispatch()
        room.wait_status("running")
        room.mute("ann", True)
        time.sleep(0.5)
        room.say("ann", SENTENCES[0], "slt")  # the SDK still sends it; the captioner ignores it
        time.sleep(SETTLE_SECONDS)
        assert not room.events("caption_segment") and not room.captions
        room.mute("ann", False)
        time.sleep(0.5)
        said = room.say("ann", SENTENCES[1], "slt")
        (segment,) = room.wait_segments(1)
    # What this test is about is that it is heard at all once unmuted.
    assert word_error_rate(said.text, segment["text"]) < 0.5, segment


def test_silence_is_not_captioned_and_the_job_ends_when_everyone_left(
    room_stack, captions_worker, record_property
):
    with CaptionsRoom(room_stack, {"ann": "Ann Example", "bob": "Bob Example"}) as room:
        room.dispatch()
        room.wait_status("running")
        cpu_before, clock_before = job_cpu_seconds(captions_worker), time.monotonic()
        time.sleep(5)  # both microphones send silence all along
        cpu = busiest(cpu_before, job_cpu_seconds(captions_worker))
        share = cpu / (time.monotonic() - clock_before)
        assert not room.captions
    record_property("captions_job_cpu_two_silent", round(share, 3))
    print(f"captions: {share:.3f} of a core for two silent microphones")
    captioner = f"captions-{room.job_id}"
    deadline = time.monotonic() + EMPTY_GRACE_SECONDS + 10
    while captioner in participants(room_stack, room.name):
        assert time.monotonic() < deadline, "the captioner stayed in the empty room"
        time.sleep(0.5)
    assert [e["kind"] for e in room_stack.sink.of(room.job_id)] == ["captions_status"]


def test_captions_turned_off_mid_sentence_keep_what_was_said(room_stack, captions_worker):
    sentence = "please send me the report before the end of the week"
    with CaptionsRoom(room_stack, {"ann": "Ann Example"}) as room:
        room.dispatch()
        room.wait_status("running")
        captioner = f"captions-{room.job_id}"
        # How the app turns captions off: RemoveParticipant, here mid-sentence (the speech
        # leaves up to a second after say(), behind the microphone's queue).
        off = threading.Timer(3.0, room_stack.remove, (room.name, captioner))
        off.start()
        said = room.say("ann", sentence, "slt")
        off.join()
        (segment,) = room.wait_segments(1)
        still_there = participants(room_stack, room.name)
    # The words said before it left are finished and reported, not dropped.
    heard = segment["text"].split()
    assert 3 <= len(heard) < len(sentence.split()), segment
    assert heard[:2] == ["please", "send"], segment  # the last, cut words may be misheard
    assert segment["end"] < said.ended - room.origin - 0.5
    assert said.started - room.origin - 1 <= segment["start"] < segment["end"]
    assert captioner not in still_there
    assert captions_worker.process.poll() is None
