"""Synthetic participants: real WebRTC peers from the `livekit` Python real-time SDK."""

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from livekit import rtc

SAMPLE_RATE = 48_000
SECONDS_TO_START = 20
SECONDS_PER_PARTICIPANT = 5


async def connect(url: str, token: str) -> rtc.Room:
    room = rtc.Room()
    await room.connect(url, token)
    return room


async def publish_test_pattern(
    room: rtc.Room, width: int = 320, height: int = 240, fps: int = 15
) -> asyncio.Task:
    """Publish a camera track of moving grey frames, 15 a second by default (cheap for a
    room of them); returns the task feeding it."""
    source = rtc.VideoSource(width, height)
    track = rtc.LocalVideoTrack.create_video_track("camera", source)
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA)
    await room.local_participant.publish_track(track, options)

    async def feed() -> None:
        shade = 0
        while True:
            shade = (shade + 8) % 256
            pixels = np.full((height, width, 4), shade, dtype=np.uint8)
            frame = rtc.VideoFrame(width, height, rtc.VideoBufferType.RGBA, pixels.tobytes())
            source.capture_frame(frame)
            await asyncio.sleep(1 / fps)

    return asyncio.create_task(feed())


async def publish_voice(room: rtc.Room, speaking: Callable[[], bool]) -> asyncio.Task:
    """Publish a microphone track: a loud tone while `speaking()` is true, silence otherwise,
    so that the server's active-speaker detection picks this participant when it speaks."""
    source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=100)
    track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    await room.local_participant.publish_track(track, options)
    samples = SAMPLE_RATE // 100  # 10 ms frames
    tone = (np.sin(2 * np.pi * 440 * np.arange(SAMPLE_RATE) / SAMPLE_RATE) * 16_000).astype(
        np.int16
    )
    silence = np.zeros(samples, dtype=np.int16)

    async def feed() -> None:
        start = 0
        while True:
            if speaking():
                pcm = tone[start : start + samples]
                start = (start + samples) % (SAMPLE_RATE - samples)
            else:
                pcm = silence
            # The source's short queue paces this loop at real time.
            await source.capture_frame(rtc.AudioFrame(pcm.tobytes(), SAMPLE_RATE, 1, samples))

    return asyncio.create_task(feed())


class BackgroundParticipants:
    """Synthetic participants kept in a room by their own thread and event loop, so that a
    test's main thread stays free for Playwright (whose sync API is bound to that thread).

        with BackgroundParticipants(tickets, publish_video=True, voices=[2, 5]) as bots:
            bots.speak(5)  # participant 5 talks, the others in `voices` are silent
            ...drive the browser...
            bots.call(lambda rooms: rooms[0].local_participant.set_attributes({...}))
    """

    def __init__(
        self,
        tickets: list[dict],
        publish_video: bool = False,
        voices: list[int] = (),
        timeout: float | None = None,
        fps: int = 15,
    ):
        self.tickets = tickets
        self.publish_video = publish_video
        self.fps = fps
        self.voices = set(voices)  # indexes of the participants that publish a microphone
        self.speaker: int | None = None
        self.rooms: list[rtc.Room] = []
        # They connect and publish one after the other: the bound grows with their number
        # (a loaded 2-core machine took over 20 s for eight).
        self.timeout = timeout or SECONDS_TO_START + SECONDS_PER_PARTICIPANT * len(tickets)
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "BackgroundParticipants":
        self._thread.start()
        if not self._ready.wait(self.timeout):
            connected = len(self.rooms)
            self.__exit__()  # the thread leaves once it is done connecting: nothing stays behind
            raise TimeoutError(
                f"synthetic participants did not connect in {self.timeout:.0f} s: "
                f"{connected} of {len(self.tickets)} had"
            )
        if self._error is not None:
            self.__exit__()
            raise self._error
        return self

    def __exit__(self, *exc_info) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(self.timeout)

    def speak(self, index: int | None) -> None:
        """Let participant `index` (one of `voices`) talk; None silences everyone."""
        self.speaker = index  # read by the feeders on the other thread; an int swap is atomic

    def call(self, fn: Callable[[list[rtc.Room]], Awaitable[Any]]) -> Any:
        """Run `fn(rooms)` on the participants' event loop and return its result."""
        future = asyncio.run_coroutine_threadsafe(fn(self.rooms), self._loop)
        return future.result(self.timeout)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        rooms, feeders = self.rooms, []
        try:
            for index, ticket in enumerate(self.tickets):
                room = await connect(ticket["livekit_url"], ticket["token"])
                rooms.append(room)
                if self.publish_video:
                    feeders.append(await publish_test_pattern(room, fps=self.fps))
                if index in self.voices:
                    feeders.append(await publish_voice(room, lambda i=index: self.speaker == i))
        except BaseException as error:  # reported to the test's thread by __enter__
            self._error = error
        self._ready.set()
        try:
            if self._error is None:
                await self._stop.wait()
        finally:
            for feeder in feeders:
                feeder.cancel()
            for room in rooms:
                await room.disconnect()
