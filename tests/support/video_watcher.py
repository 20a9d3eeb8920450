"""A synthetic participant that watches one person's camera: the latest frame and the rate
frames arrive at (background effects: what the others receive, and at what frame rate)."""

import asyncio
import threading
import time

import numpy as np
from livekit import rtc
from PIL import Image

from tests.support.waiting import wait_for


class VideoWatcher:
    """A synthetic participant (the Python SDK) that keeps the latest frame of `name`'s camera
    and counts its frames, on its own thread and event loop."""

    def __init__(self, ticket: dict, name: str):
        self.ticket, self.name = ticket, name
        self.frame: np.ndarray | None = None
        self.times: list[float] = []
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> "VideoWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        wait_for(lambda: self._loop is not None, 20, what="the watcher's event loop")
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        room = rtc.Room()
        tasks = []

        def subscribed(track, _publication, participant) -> None:
            if track.kind == rtc.TrackKind.KIND_VIDEO and participant.name == self.name:
                tasks.append(asyncio.ensure_future(self._read(track)))

        room.on("track_subscribed", subscribed)
        await room.connect(self.ticket["livekit_url"], self.ticket["token"])
        try:
            await self._stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await room.disconnect()

    async def _read(self, track) -> None:
        stream = rtc.VideoStream(track, format=rtc.VideoBufferType.RGBA)
        try:
            async for event in stream:
                frame = event.frame
                pixels = np.frombuffer(frame.data, dtype=np.uint8)
                self.frame = pixels.reshape(frame.height, frame.width, 4)[:, :, :3].copy()
                self.times.append(time.monotonic())
        finally:
            await stream.aclose()

    def fps(self, seconds: float = 8) -> float:
        """Frames received per second over the next `seconds`."""
        start = time.monotonic()
        time.sleep(seconds)
        return sum(1 for t in self.times if t >= start) / seconds


def sharpness(frame: np.ndarray) -> float:
    """Variance of the Laplacian at 320x180, a common measure of focus: sharp edges and text
    make it high, blur low. At one size whatever layer the SFU sent (the sender drops to
    320x180 when its CPU is saturated). The fake camera has no person in it: all of its
    picture is background."""
    small = Image.fromarray(frame).convert("L").resize((320, 180), Image.BOX)
    grey = np.asarray(small, dtype=np.float32)
    laplacian = (
        4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    )
    return float(laplacian.var())
