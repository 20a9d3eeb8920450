"""Issue 20 acceptance: live captions made on the box by the real media worker. A host in
Chromium and two synthetic people who speak flite sentences one after the other meet on the
real livekit-server; the captioner (PocketSphinx) captions them; the host sees each sentence
with its speaker's name; the transcript is stored, exported and searchable."""

import re
import socket

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from meetings import livekit_gateway as gateway
from meetings.background import wait_for_background_work
from meetings.extensions import db
from meetings.models import Recording, RecordingStatus
from tests.browser.meeting_room import guest_tickets, host_in_meeting, open_panel, room_of
from tests.support.browser_pages import PHONE, PageProblems, screenshot, wait_until
from tests.support.captions import transcript_of
from tests.support.live import run_in_thread
from tests.support.media_worker import WorkerProcess
from tests.support.speech import LOADED_QUEUE_MS, Microphone, flite_wav, word_error_rate
from tests.support.synthetic import BackgroundParticipants
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.media_worker]

SCRIPT = [
    # (speaker, flite voice, sentence): two voices, one after the other.
    ("Sam Speaker", "slt", "please remember to bring your notes and the budget for next year"),
    ("Rita Reader", "rms", "the children played in the garden until it was time for dinner"),
]
# From the end of a sentence to its final caption on the host's screen: "within a few
# seconds" on a quiet machine is about one; a loaded 2-core CI machine gets ten.
CAPTION_SECONDS = 10
FINALS = "#captions-live p"  # the screen readers' region: final captions only, "Name: text"


PLAYER_CUES = """Array.from(
  document.getElementById('recording-player').textTracks[0]?.cues || [],
  (cue) => [cue.startTime, cue.text])"""


def microphone(people: BackgroundParticipants, index: int) -> Microphone:
    """A microphone for synthetic participant `index`, its queue sized for a loaded process."""
    return people.call(lambda rooms: Microphone.publish(rooms[index], queue_ms=LOADED_QUEUE_MS))


def record(page: Page, button: str) -> None:
    """Start or stop recording from the room's Recording panel, then close the panel."""
    open_panel(page, "Recording")
    page.get_by_role("button", name=button).click()
    page.get_by_role("button", name="Close recording").click()


def recording_of(stack, room: str) -> Recording | None:
    def find():
        row = db.session.scalar(sa.select(Recording).where(Recording.room_name == room))
        if row is not None:
            db.session.expunge(row)
        return row

    return stack.query(find)


def finals_by(page: Page, name: str) -> str:
    texts = page.locator(FINALS).all_inner_texts()
    return " ".join(t.split(":", 1)[1] for t in texts if t.startswith(f"{name}:"))


def captions_running(page: Page) -> None:
    expect(page.locator("#captions-indicator")).to_have_attribute(
        "data-status", "running", timeout=60_000
    )


def parse_webvtt(text: str) -> list[tuple[float, float, str, str]]:
    """(start, end, voice, text) of each cue; asserts the WebVTT shape on the way."""

    def seconds(stamp: str) -> float:
        hours, minutes, rest = stamp.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)

    blocks = text.strip().split("\n\n")
    assert blocks[0].startswith("WEBVTT")
    cues = []
    for block in blocks[1:]:
        lines = block.splitlines()
        timing = next(line for line in lines if "-->" in line)
        start, end = (seconds(part.strip().split()[0]) for part in timing.split("-->"))
        body = " ".join(lines[lines.index(timing) + 1 :])
        voice = re.match(r"<v ([^>]+)>(.*)", body)
        assert voice, body
        cues.append((start, end, voice.group(1), voice.group(2)))
    return cues


def test_two_people_are_captioned_by_name_and_their_words_land_in_the_transcript(
    live_stack, open_context, builtin_recorder
):
    slug, page = host_in_meeting(open_context, live_stack, captions=True, recording_allowed=True)
    problems = PageProblems(page)
    room = room_of(live_stack, slug)
    names = [name for name, _, _ in SCRIPT]
    with BackgroundParticipants(guest_tickets(live_stack, slug, names)) as people:
        # The meeting is set to caption: captions start as the host joins.
        captions_running(page)
        expect(page.locator("#captions-indicator")).to_contain_text("Captions on")
        record(page, "Start recording")
        expect(page.locator("#recording-indicator")).to_be_visible(timeout=30_000)
        mics = [
            people.call(lambda rooms, i=i: Microphone.publish(rooms[i], queue_ms=LOADED_QUEUE_MS))
            for i in (0, 1)
        ]
        # The captioner subscribes to a new microphone when it is published; on a loaded
        # machine that took long enough for a sentence said at once to lose its first words
        # (CI: "please remember to bring your notes" heard as "and shivering year notes"). A
        # person, too, unmutes a moment before speaking.
        page.wait_for_timeout(3000)
        spoken_at = []  # unix time each sentence began to go out
        for index, (name, voice, sentence) in enumerate(SCRIPT):
            wav = flite_wav(sentence, voice)
            began, _ = people.call(lambda rooms, m=mics[index], w=wav: m.say(w))  # once said
            spoken_at.append(began)
            wait_for(
                lambda n=name: finals_by(page, n),
                timeout=CAPTION_SECONDS,
                what=lambda n=name: (
                    f"{n}'s final caption; the page shows {page.locator(FINALS).all_inner_texts()}"
                ),
            )
            if index == 0:
                line = page.locator("#caption-lines .caption").last
                expect(line.locator(".caption-speaker")).to_have_text(name)
                screenshot(page, "live-captions-desktop")
        record(page, "Stop recording")
        expect(page.locator("#recording-indicator")).to_be_hidden(timeout=30_000)
        page.set_viewport_size(PHONE)
        expect(page.locator("#captions")).to_be_visible()
        # The last caption, wrapped anew for the narrow screen, still starts with its name.
        name = page.locator("#caption-lines .caption").last.locator(".caption-speaker")
        expect(name).to_have_text(names[1])
        page.wait_for_timeout(100)  # the refit waits for the next frame
        box_top = page.locator("#caption-lines").bounding_box()["y"]
        assert name.bounding_box()["y"] >= box_top - 1, "the speaker's name is cut off"
        screenshot(page, "live-captions-phone")
        # What the host read matches what was said, word for word but for a few.
        shown = " ".join(finals_by(page, name) for name in names)
        script = " ".join(sentence for _, _, sentence in SCRIPT)
        assert word_error_rate(script, shown) < 0.25, shown
        for mic in mics:
            people.call(lambda rooms, m=mic: m.aclose())
    assert problems.errors == []

    # Each sentence is stored once, under its speaker, at a plausible time.
    row = wait_for(
        lambda: (t := transcript_of(live_stack, room)) and len(t.segments) >= 2 and t,
        timeout=30,
        what=lambda: f"two stored segments: {transcript_of(live_stack, room)!r}",
    )
    by_speaker = {}
    for segment in row.segments:
        by_speaker.setdefault(segment.display_name, []).append(segment)
    assert sorted(by_speaker) == sorted(names)
    stored = " ".join(s.text for name in names for s in by_speaker[name])
    assert word_error_rate(script, stored) < 0.25, stored
    first, second = by_speaker[names[0]][0], by_speaker[names[1]][0]
    assert 0 <= first.start < first.end <= second.start < second.end
    assert 1.5 < first.end - first.start < 8  # a ~3 s sentence

    api = f"/api/v1/meetings/{slug}/transcripts/{row.occurrence_key}"
    answer = page.request.get(api)
    assert answer.ok, answer.text()
    segments = answer.json()["segments"]
    assert [s["display_name"] for s in segments] == [s.display_name for s in row.segments]
    vtt = page.request.get(f"{api}?format=vtt")
    assert vtt.headers["content-type"].startswith("text/vtt")
    cues = parse_webvtt(vtt.text())
    assert [voice for _, _, voice, _ in cues] == [s.display_name for s in row.segments]
    assert all(start < end for start, end, _, _ in cues)

    page.set_viewport_size({"width": 1280, "height": 800})
    # The recording plays with the captions said while it ran, each when it was said.
    recording = wait_for(
        lambda: (r := recording_of(live_stack, room)) and r.status.is_final and r,
        timeout=60,
        what=lambda: f"the recording to end: {recording_of(live_stack, room)!r}",
    )
    assert recording.status == RecordingStatus.COMPLETE, recording.error
    page.goto(f"/recordings?meeting={slug}")
    page.get_by_role("link", name="Play Scheduled call").click()
    expect(page.locator("#recording-player")).to_be_attached()  # the player's page is open
    wait_until(page, "document.getElementById('recording-player').readyState >= 2")
    wait_until(page, f"({PLAYER_CUES}).length >= 2")
    cues = page.evaluate(PLAYER_CUES)
    # Rita's sentence starts on the player when she started saying it (a pause mid-sentence on
    # a loaded machine may cut it into two cues: ci27 got "the children" and "played in …").
    # The bound is 2.5 s, not the 1.5 s: on CI's loaded 2-core machine the cue came
    # 1.8 s after the speech's queued start (ci28; 0.3 s in ci27). The queued start is taken
    # at the sender: the delay is in sending under load, or in our clock.
    rita = next(start for start, text in cues if text.startswith("<v Rita Reader>"))
    said_at = spoken_at[1] - recording.started_at.timestamp()
    assert rita == pytest.approx(said_at, abs=2.5), (cues, said_at)
    screenshot(page, "live-captions-recording-player")

    page.goto("/transcripts/search?q=garden")
    results = page.get_by_role("main")
    expect(results).to_contain_text("Rita Reader")
    expect(results.locator("mark")).to_contain_text("garden", ignore_case=True)
    screenshot(page, "transcript-search")
    results.locator(".search-result h3 a").first.click()
    expect(page.get_by_role("main")).to_contain_text("Sam Speaker")
    screenshot(page, "transcript-page")


def test_with_captions_off_no_captioner_joins_and_nothing_is_stored(
    live_stack, open_context, media_worker
):
    media_worker.ensure_running()
    slug, page = host_in_meeting(open_context, live_stack)  # captions not set
    room = room_of(live_stack, slug)
    with BackgroundParticipants(guest_tickets(live_stack, slug, ["Sam Speaker"])) as people:
        mic = microphone(people, 0)
        people.call(lambda rooms: mic.say(flite_wav(SCRIPT[0][2])))
        live = run_in_thread(lambda: live_stack.query(lambda: gateway.list_live_participants(room)))
        people.call(lambda rooms: mic.aclose())
    assert not [p for p in live if p.identity.startswith("captions-")]
    expect(page.locator("#captions-indicator")).to_be_hidden()
    assert transcript_of(live_stack, room) is None


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def test_an_unreachable_speech_service_shows_captions_unavailable_and_the_meeting_goes_on(
    live_stack, open_context, media_worker, tmp_path
):
    # This test's worker is the only one serving captions: the session's is stopped (the next
    # test that needs one starts it again).
    media_worker.stop()
    config = live_stack.livekit_config
    env = {"STT": "openai", "STT_URL": f"http://127.0.0.1:{closed_port()}/v1"}
    worker = WorkerProcess(
        config, live_stack.base_url, tmp_path / "worker.log", tmp_path / "rec", env=env
    )
    page = None
    try:
        worker.wait_registered()
        slug, page = host_in_meeting(open_context, live_stack, captions=True)
        problems = PageProblems(page)
        with BackgroundParticipants(guest_tickets(live_stack, slug, ["Sam Speaker"])) as people:
            # The captioner asks the server before it says it runs, and speech finds it
            # silent too.
            mic = microphone(people, 0)
            people.call(lambda rooms: mic.say(flite_wav(SCRIPT[0][2])))
            sign = page.locator("#captions-indicator")
            expect(sign).to_have_attribute("data-status", "unavailable", timeout=30_000)
            expect(sign).to_contain_text("Captions unavailable")
            screenshot(page, "live-captions-unavailable")
            # The meeting goes on: the speaker is still there, the page still connected.
            expect(page.locator("#tiles .tile.remote")).to_have_count(1)
            people.call(lambda rooms: mic.aclose())
        assert worker.process.poll() is None, worker.log()[-3000:]
        assert problems.errors == []
    finally:
        if page is not None:  # the host leaves first: a captioner lost from a room with
            page.context.close()  # people in it would be dispatched again
        worker.stop()
        live_stack.wait_until_derived()
        live_stack.query(wait_for_background_work)
