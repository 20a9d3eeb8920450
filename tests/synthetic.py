"""Synthetic participants: real WebRTC peers from the `livekit` Python real-time SDK."""

import asyncio

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
