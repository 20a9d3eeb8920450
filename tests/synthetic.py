"""Synthetic participants: real WebRTC peers from the `livekit` Python real-time SDK."""

import asyncio
import threading

import numpy as np
from livekit import rtc


async def connect(url: str, token: str) -> rtc.Room:
    room = rtc.Room()
    await room.connect(url, token)
    return room


async def publish_test_pattern(room: rtc.Room, width: int = 320, height: int = 240) -> asyncio.Task:
    """Publish a camera track of moving grey frames; returns the task feeding it."""
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
            await asyncio.sleep(1 / 15)

    return asyncio.create_task(feed())


class BackgroundParticipants:
    """Synthetic participants kept in a room by their own thread and event loop, so that a
    test's main thread stays free for Playwright (whose sync API is bound to that thread).

        with BackgroundParticipants(tickets, publish_video=True):
            ...drive the browser...
    """

    def __init__(self, tickets: list[dict], publish_video: bool = False, timeout: float = 20):
        self.tickets = tickets
        self.publish_video = publish_video
        self.timeout = timeout
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "BackgroundParticipants":
        self._thread.start()
        if not self._ready.wait(self.timeout):
            raise TimeoutError("synthetic participants did not connect in time")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc_info) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(self.timeout)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        rooms, feeders = [], []
        try:
            for ticket in self.tickets:
                room = await connect(ticket["livekit_url"], ticket["token"])
                rooms.append(room)
                if self.publish_video:
                    feeders.append(await publish_test_pattern(room))
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
