"""Issue 19 acceptance: a meeting recorded by the media worker, end to end. A host in Chromium
and two synthetic people (a solid colour and a tone each) meet on the real livekit-server; the
host records ~10 s from the room; the real worker writes the file; the recordings page lists it
complete and plays it; the file is what people would expect to see and hear."""

import json
import shutil
import subprocess
from datetime import UTC, datetime

import numpy as np
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from meetings.extensions import db
from meetings.models import Recording, RecordingStatus
from meetings.worker import layout
from tests.browser.meeting_room import host_in_meeting, open_panel, room_of
from tests.support.browser_pages import PageProblems, screenshot, sign_in, wait_until
from tests.support.waiting import wait_for
from tests.worker import media
from tests.worker.participants import ParticipantsProcess

pytestmark = [pytest.mark.browser, pytest.mark.media_worker]

RED, BLUE = (255, 0, 0), (0, 0, 255)
RECORD_SECONDS = 10


def recording_of(stack, room: str) -> Recording | None:
    def find():
        row = db.session.scalar(sa.select(Recording).where(Recording.room_name == room))
        if row is not None:
            db.session.expunge(row)
        return row

    return stack.query(find)


def seconds_since(moment: datetime) -> float:
    return (datetime.now(UTC) - moment).total_seconds()


def probe(path) -> dict:
    ffprobe = shutil.which("ffprobe") or "ffprobe"
    command = [ffprobe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format"]
    done = subprocess.run([*command, str(path)], check=True, capture_output=True, timeout=30)
    return json.loads(done.stdout)


def test_a_meeting_recorded_by_the_media_worker_plays_on_the_recordings_page(
    live_stack, open_context, builtin_recorder
):
    slug, page = host_in_meeting(open_context, live_stack, recording_allowed=True)
    problems = PageProblems(page)
    room = room_of(live_stack, slug)
    config = live_stack.livekit_config
    people = ParticipantsProcess(
        config.ws_url,
        config.api_key,
        config.api_secret,
        [
            {"room": room, "identity": "red-one", "colour": RED, "tone": 440},
            {"room": room, "identity": "blue-two", "colour": BLUE, "tone": 660},
        ],
    )
    try:
        expect(page.locator("#tiles .tile.remote")).to_have_count(2)
        open_panel(page, "Recording")
        page.get_by_role("button", name="Start recording").click()
        expect(page.locator("#recording-indicator")).to_be_visible(timeout=30_000)
        # The recorder is in the room, yet nobody sees a tile or a row for it.
        expect(page.locator("#tiles .tile.remote")).to_have_count(2)
        started_at = wait_for(
            lambda: recording_of(live_stack, room).started_at,
            timeout=30,
            what=lambda: f"the recording to start: {recording_of(live_stack, room)!r}",
        )
        # The host talks for ~10 s from the moment the recording started, then stops it.
        page.wait_for_timeout(max(0, RECORD_SECONDS - seconds_since(started_at)) * 1000)
        page.get_by_role("button", name="Stop recording").click()
        expect(page.locator("#recording-indicator")).to_be_hidden(timeout=30_000)
        wait_for(
            lambda: recording_of(live_stack, room).status.is_final,
            timeout=60,
            what=lambda: f"the recording to end: {recording_of(live_stack, room)!r}",
        )
    finally:
        people.close()

    row = recording_of(live_stack, room)
    assert row.status == RecordingStatus.COMPLETE, row.error
    path = builtin_recorder / row.file_name
    assert (row.size_bytes, row.width, row.height) == (path.stat().st_size, 1280, 720)

    page.goto(f"/recordings?meeting={slug}")
    expect(page.get_by_role("heading", name="Recordings")).to_be_visible()
    expect(page.locator('td[data-label="Status"]')).to_contain_text("Complete", ignore_case=True)
    screenshot(page, "builtin-recordings-list")
    page.get_by_role("link", name="Play Scheduled call").click()
    expect(page.locator("#recording-player")).to_be_attached()  # the player's page is open
    wait_until(page, "document.getElementById('recording-player').readyState >= 2")
    player = page.locator("#recording-player")
    assert player.evaluate("video => video.videoWidth") == 1280
    player.evaluate("video => { video.muted = true; return video.play(); }")
    wait_until(page, "document.getElementById('recording-player').currentTime > 1")
    screenshot(page, "builtin-recording-player")
    assert problems.errors == []

    streams = probe(path)
    by_type = {s["codec_type"]: s for s in streams["streams"]}
    video, audio = by_type["video"], by_type["audio"]
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1280, 720)
    assert audio["codec_name"] == "aac"
    # The file is as long as the recording page says it ran (what the worker measured), and
    # that is the time between the host's start and stop (plus the stop's trip, which takes
    # longer on a loaded machine).
    duration = float(streams["format"]["duration"])
    assert duration == pytest.approx(row.duration_seconds, abs=0.5)
    assert RECORD_SECONDS - 1 <= duration <= RECORD_SECONDS + 5

    # Three tiles (the host's camera and the two colours); each colour fills one of them.
    frame = media.frame_at(path, float(streams["format"]["duration"]) / 2)
    found = set()
    for rect in layout.grid_rects(3, 1280, 720):
        pixel = frame[rect.y + rect.h // 2, rect.x + rect.w // 2].astype(int)
        found |= {colour for colour in (RED, BLUE) if np.abs(pixel - colour).max() < 60}
    assert found == {RED, BLUE}
    samples = media.audio_samples(path)
    assert np.sqrt((samples**2).mean()) > 0.05  # the tones, not silence


def test_operators_see_the_running_media_worker(live_stack, open_context, builtin_recorder):
    page = open_context().new_page()
    sign_in(page)  # the live app's operator
    page.goto("/ops/livekit")
    workers = page.get_by_role("region", name="Media workers")
    # Earlier tests may have killed or stopped workers: those rows say "Gone".
    alive = workers.get_by_role("row").filter(has_text="Alive")
    expect(alive.first).to_contain_text("recorder")
    screenshot(page, "ops-media-workers")
