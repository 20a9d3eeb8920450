"""End-to-end encrypted meetings (issue 22): the key travels only in the link's fragment, the
browsers encrypt media and chat with it, and the server (app, database, logs, LiveKit) never
has it. Synthetic participants of the Python SDK check the media on the wire: without the key
they cannot decode it, with it they can."""

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pytest
import sqlalchemy as sa
from livekit import rtc
from playwright.sync_api import Page, expect

from meetings.extensions import db
from tests.browser.meeting_room import chat_messages, guest_tickets, open_panel, send_chat
from tests.support.browser_pages import (
    PageProblems,
    join,
    scheduled,
    screenshot,
    sign_in,
    wait_for_video,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.one_database]

KEY_IN_STORAGE = "localStorage.getItem('e2ee-key:' + location.pathname.split('/').pop())"

# The level of what an <audio> element plays, through WebAudio: the fake microphone beeps.
AUDIO_LEVEL = """async () => {
  const audio = [...document.querySelectorAll('#audio-sink audio')].find((a) => a.srcObject);
  if (!audio) return 0;
  const context = new AudioContext();
  await context.resume();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(audio.srcObject).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let loudest = 0;
  for (let i = 0; i < 30; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    analyser.getFloatTimeDomainData(samples);
    for (const sample of samples) loudest = Math.max(loudest, Math.abs(sample));
  }
  await context.close();
  return loudest;
}"""


def host_page_with_key(open_context, live_stack) -> tuple[str, Page, str]:
    """An E2EE meeting; its host has seen its page (the browser made the key there)."""
    slug, email = scheduled(live_stack, e2ee=True)
    host = open_context().new_page()
    sign_in(host, email)
    host.goto(f"/meetings/{slug}")
    expect(host.get_by_role("button", name="Copy encrypted link")).to_be_visible()
    key = host.evaluate(KEY_IN_STORAGE)
    assert key and len(key) == 43, key
    return slug, host, key


@contextmanager
def request_log() -> Iterator[list[str]]:
    """Every request line the live app's server logs meanwhile (it is quiet otherwise)."""
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = logging.getLogger("werkzeug")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        logger.setLevel(level)
        logger.removeHandler(handler)


def database_dump(live_stack) -> str:
    def dump() -> str:
        rows = []
        for table in db.metadata.sorted_tables:
            rows += [repr(tuple(row)) for row in db.session.execute(sa.select(table))]
        return "\n".join(rows)

    return live_stack.query(dump)


@dataclass
class Received:
    """What a synthetic participant got from the host's browser."""

    frames: list[np.ndarray] = field(default_factory=list)
    audio: list[np.ndarray] = field(default_factory=list)  # 10 ms chunks, 48 kHz mono
    data: list[bytes] = field(default_factory=list)

    def beep_share(self) -> float:
        """How much of the sound's power is one tone (Chromium's fake microphone beeps), over
        everything received: large for the beep, small for noise, 0 for silence or nothing."""
        windows = [
            np.concatenate(self.audio[i : i + 10]).astype(np.float64)
            for i in range(0, len(self.audio) - 9, 10)
        ]
        if not windows:
            return 0.0
        power = sum(np.abs(np.fft.rfft(window)) ** 2 for window in windows)
        if power.sum() == 0:
            return 0.0
        peak = int(power.argmax())
        return float(power[max(peak - 5, 0) : peak + 6].sum() / power.sum())


INJECTED = "sent in clear by someone without the key"


async def listen(ticket: dict, key: str | None, seconds: float, ready: threading.Event) -> Received:
    """Join, take the host's camera and microphone for `seconds`, keep every data message;
    without the key, also send a chat message in clear."""
    received = Received()
    encryption = None
    if key is not None:
        # The browsers give the key as a string (PBKDF2), the SDK's default derivation.
        keys = rtc.KeyProviderOptions(shared_key=key.encode())
        encryption = rtc.E2EEOptions(key_provider_options=keys)
    room = rtc.Room()
    tracks: asyncio.Queue = asyncio.Queue()
    room.on("track_subscribed", lambda track, *_: tracks.put_nowait(track))
    room.on("data_received", lambda packet: received.data.append(packet.data))
    await room.connect(
        ticket["livekit_url"], ticket["token"], rtc.RoomOptions(encryption=encryption)
    )
    ready.set()
    if key is None:
        # A client with a valid ticket but no key: its chat goes out in clear, and the pages
        # must not show it as if it were the meeting's own. Sent once the host's page has had
        # time to know this participant (a message from an unknown one is dropped anyway).
        await asyncio.sleep(3)
        chat = json.dumps({"type": "chat", "text": INJECTED}).encode()
        await room.local_participant.publish_data(chat, reliable=True, topic="chat")

    async def video(track) -> None:
        async for event in rtc.VideoStream(track, format=rtc.VideoBufferType.RGBA):
            frame = event.frame
            pixels = np.frombuffer(frame.data, dtype=np.uint8).reshape(frame.height, frame.width, 4)
            received.frames.append(pixels[:, :, :3].copy())

    async def audio(track) -> None:
        async for event in rtc.AudioStream(track, sample_rate=48_000, num_channels=1):
            received.audio.append(np.frombuffer(event.frame.data, dtype=np.int16).copy())

    async def take_tracks() -> None:
        while True:
            track = await tracks.get()
            consume = video if track.kind == rtc.TrackKind.KIND_VIDEO else audio
            asyncio.get_running_loop().create_task(consume(track))

    taking = asyncio.get_running_loop().create_task(take_tracks())
    await asyncio.sleep(seconds)
    taking.cancel()
    await room.disconnect()
    return received


class Listeners:
    """Synthetic participants with and without the key, on their own thread and loop."""

    def __init__(self, tickets: list[dict], keys: list[str | None], seconds: float):
        self.results: list[Received] = []
        self.ready = [threading.Event() for _ in tickets]
        self.jobs = list(zip(tickets, keys, self.ready, strict=True))
        self.seconds = seconds
        self.thread = threading.Thread(target=self._run, name="e2ee-listeners")
        self.error: BaseException | None = None

    def _run(self) -> None:
        async def main():
            jobs = [listen(t, k, self.seconds, r) for t, k, r in self.jobs]
            return await asyncio.gather(*jobs)

        try:
            self.results = asyncio.run(main())
        except BaseException as error:  # reported on the test's thread
            self.error = error
            for event in self.ready:
                event.set()

    def __enter__(self) -> "Listeners":
        self.thread.start()
        for event in self.ready:
            assert event.wait(30), "a synthetic participant did not connect"
        return self

    def __exit__(self, *exc_info) -> None:
        self.thread.join(self.seconds + 30)
        if self.error is not None and exc_info[0] is None:
            raise self.error


def looks_like_a_camera(frames: list[np.ndarray]) -> bool:
    """Chromium's fake camera: a green picture with a moving drawing on it (the size changes
    with the simulcast layer received: frames are compared with one of the same size)."""
    if len(frames) < 5:
        return False
    last = frames[-1].astype(np.int16)
    earlier = [frame for frame in frames[:-5] if frame.shape == last.shape]
    green = last[:, :, 1].mean() > last[:, :, 0].mean() + 100
    moves = bool(earlier) and np.abs(last - earlier[-1]).mean() > 0.1
    return bool(green and last.std() > 10 and moves)


def test_with_the_full_link_people_meet_and_the_server_never_has_the_key(open_context, live_stack):
    with request_log() as requests:
        slug, host, key = host_page_with_key(open_context, live_stack)
        screenshot(host, "e2ee-meeting-page")
        problems = PageProblems(host)
        host.goto(f"/m/{slug}")  # the host's browser has the key: no fragment needed
        join(host)
        sign = host.locator("#e2ee-sign")
        expect(sign).to_have_text("End-to-end encrypted")
        expect(host.get_by_role("button", name="Copy encrypted link")).to_be_visible()

        tickets = guest_tickets(live_stack, slug, ["No Key", "With Key"])
        with Listeners(tickets, [None, key], seconds=14) as listeners:
            guest = open_context().new_page()
            guest_problems = PageProblems(guest)
            guest.goto(f"/m/{slug}#key={key}")
            wait_until(guest, "location.hash === ''")  # gone from the address bar at once
            join(guest, "Gita Guest")
            expect(guest.locator("#e2ee-sign")).to_be_visible()
            for page in (host, guest):
                wait_for_video(page, ".tile.remote video")
            for page in (host, guest):
                assert page.evaluate(AUDIO_LEVEL) > 0.05, "no sound from the other side"
            open_panel(guest, "Chat")
            send_chat(guest, "the secret plan")
            open_panel(host, "Chat")
            expect(chat_messages(host)).to_have_text(["the secret plan"])
            send_chat(host, "understood")
            expect(chat_messages(guest)).to_have_text(["the secret plan", "understood"])
            screenshot(guest, "e2ee-room")
        # The keyless client sent a chat message in clear meanwhile: no page showed it.
        for page in (host, guest):
            expect(chat_messages(page)).to_have_text(["the secret plan", "understood"])
        no_key, with_key = listeners.results

        # Media: only the SDK given the key decodes the host's camera and microphone.
        # Without it the video does not decode at all, and the sound decodes to noise.
        assert looks_like_a_camera(with_key.frames), len(with_key.frames)
        assert with_key.beep_share() > 0.4, with_key.beep_share()
        assert not looks_like_a_camera(no_key.frames), len(no_key.frames)
        assert no_key.beep_share() < 0.25, no_key.beep_share()
        # Chat: encrypted data packets; nobody without the key reads it.
        assert not any(b"secret plan" in data or b"understood" in data for data in no_key.data)

        # The server refuses to record what it cannot see, and says why.
        answer = host.evaluate(
            """async (slug) => {
              const token = document.querySelector('meta[name="csrf-token"]').content;
              const response = await fetch(`/api/v1/meetings/${slug}/recordings`, {
                method: "POST", body: "{}",
                headers: {"Content-Type": "application/json", "X-CSRFToken": token},
              });
              return [response.status, await response.json()];
            }""",
            slug,
        )
        assert answer[0] == 409, answer
        assert answer[1]["error"]["code"] == "e2ee_meeting"
        assert "end-to-end encrypted" in answer[1]["error"]["message"]
        assert problems.errors == [] and guest_problems.errors == []

    assert any(f"/m/{slug}" in line for line in requests), requests[:5]
    assert not any(key in line for line in requests)
    assert key not in live_stack.livekit.log_path.read_text(errors="replace")
    dump = database_dump(live_stack)
    assert slug in dump and key not in dump


def test_a_link_without_the_key_asks_for_the_full_link(open_context, live_stack):
    slug, _ = scheduled(live_stack, e2ee=True)
    page = open_context().new_page()
    problems = PageProblems(page)
    page.goto(f"/m/{slug}")
    expect(page.get_by_role("heading", name="You need the full link")).to_be_visible()
    expect(page.get_by_text("Ask the host for the full encrypted link")).to_be_visible()
    expect(page.get_by_role("button", name="Join meeting")).to_be_hidden()
    expect(page.locator("#e2ee-sign")).to_be_visible()
    # Nothing started: no camera asked for, no ticket, no call.
    assert page.evaluate("document.querySelector('#preview-video').srcObject") is None
    screenshot(page, "e2ee-need-the-full-link")
    assert problems.errors == []


def test_a_link_with_another_key_says_the_keys_do_not_match(open_context, live_stack):
    slug, host, key = host_page_with_key(open_context, live_stack)
    host.goto(f"/m/{slug}")
    join(host)
    other = "A" * 43
    assert other != key
    guest = open_context().new_page()
    guest.goto(f"/m/{slug}#key={other}")
    join(guest, "Olga Oldlink")
    for page in (host, guest):
        expect(page.locator("#banner")).to_contain_text("key does not match")
    assert guest.evaluate("document.documentElement.dataset.e2ee") == "key-mismatch"
    screenshot(guest, "e2ee-key-mismatch")
