"""Synthetic participants for the worker tests, in a child process of their own.

They publish a solid colour and a tone, or flashes and beeps at the same instants (for A/V
sync), with the `livekit` real-time SDK. A separate process keeps the SDK's native threads
out of the test process and its load off the measurements.

    python -m tests.worker.participants '<json spec>'   # prints READY, then reads commands:
    "peers" -> one JSON line {identity: [identities it sees]}; "leave" -> disconnect and exit
"""

import asyncio
import json
import os
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from livekit import api, rtc

from meetings.worker.compositor import rgb_to_yuv

SAMPLE_RATE = 48_000
CHUNK = SAMPLE_RATE // 100  # 10 ms
PROJECT_DIR = Path(__file__).resolve().parents[2]


def i420(rgb: tuple[int, int, int], width: int, height: int) -> bytes:
    y, u, v = rgb_to_yuv(*rgb)
    quarter = (width // 2) * (height // 2)
    return bytes([y]) * (width * height) + bytes([u]) * quarter + bytes([v]) * quarter


def tone(hz: float, amplitude: int = 12_000) -> np.ndarray:
    """One second of a sine, which loops without a click for whole-number frequencies."""
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    return (np.sin(2 * np.pi * hz * t) * amplitude).astype(np.int16)


class Synthetic:
    """One participant publishing synthetic media."""

    def __init__(self, room: rtc.Room) -> None:
        self.room = room
        self.tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def join(cls, url: str, key: str, secret: str, room: str, identity: str) -> "Synthetic":
        token = (
            api.AccessToken(key, secret)
            .with_identity(identity)
            .with_name(identity.replace("-", " ").title())
            .with_grants(api.VideoGrants(room_join=True, room=room))
            .to_jwt()
        )
        connected = rtc.Room()
        await connected.connect(url, token)
        return cls(connected)

    async def publish_colour(self, rgb: tuple[int, int, int], fps: int = 15) -> None:
        """A 320x240 camera of one flat colour."""
        await self._video(lambda: tuple(rgb), fps)

    async def publish_tone(self, hz: float) -> None:
        samples = tone(hz)
        await self._audio(lambda n: samples[n % SAMPLE_RATE : n % SAMPLE_RATE + CHUNK])

    async def publish_flashes(self, period: float = 2.0, length: float = 0.2) -> None:
        """White frames and a beep together for `length` s every `period` s."""
        # Both follow the audio's sample clock, so the sender itself is in sync.
        beep, silence = tone(1000, 20_000), np.zeros(CHUNK, np.int16)
        sent = {"samples": 0}

        def on(seconds: float) -> bool:
            return seconds % period < length

        def audio(n: int) -> np.ndarray:
            sent["samples"] = n
            if on(n / SAMPLE_RATE):
                return beep[n % SAMPLE_RATE : n % SAMPLE_RATE + CHUNK]
            return silence

        await self._audio(audio)
        bright, dark = (255, 255, 255), (40, 0, 0)
        await self._video(lambda: bright if on(sent["samples"] / SAMPLE_RATE) else dark, 30)

    async def publish_screen(self, width: int = 1280, height: int = 720, fps: int = 5) -> None:
        """A screen share of slowly changing grey bars."""
        source = rtc.VideoSource(width, height)
        track = rtc.LocalVideoTrack.create_video_track("screen", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_SCREENSHARE)
        await self.room.local_participant.publish_track(track, options)
        bars = np.tile(np.arange(width, dtype=np.uint8), (height, 1))

        async def feed() -> None:
            shift = 0
            while True:
                shift = (shift + 16) % width
                y = np.roll(bars, shift, axis=1).ravel()
                chroma = np.full(width * height // 2, 128, np.uint8)
                data = np.concatenate((y, chroma)).tobytes()
                source.capture_frame(rtc.VideoFrame(width, height, rtc.VideoBufferType.I420, data))
                await asyncio.sleep(1 / fps)

        self.tasks.append(asyncio.create_task(feed()))

    async def publish_moving(self, width: int = 640, height: int = 360, fps: int = 15) -> None:
        """A simulcast camera with motion everywhere (sliding bars and a noisy patch)."""
        # It costs the decoder and the encoder about what a real face does.
        source = rtc.VideoSource(width, height)
        track = rtc.LocalVideoTrack.create_video_track("camera", source)
        # Simulcast like a browser: the recorder picks the layer that fits the tile.
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA, simulcast=True)
        await self.room.local_participant.publish_track(track, options)
        rng = np.random.default_rng(len(self.room.local_participant.identity))
        bars = np.tile((np.arange(width) * 3 % 256).astype(np.uint8), (height, 1))
        chroma = np.full(width * height // 2, 100, np.uint8)

        async def feed() -> None:
            shift = 0
            while True:
                shift += 4
                y = np.roll(bars, shift, axis=1)
                y[height // 3 : height // 2, width // 3 : width // 2] = rng.integers(
                    0, 255, (height // 2 - height // 3, width // 2 - width // 3), np.uint8
                )
                data = np.concatenate((y.ravel(), chroma)).tobytes()
                source.capture_frame(rtc.VideoFrame(width, height, rtc.VideoBufferType.I420, data))
                await asyncio.sleep(1 / fps)

        self.tasks.append(asyncio.create_task(feed()))

    async def _video(self, colour_now, fps: int) -> None:
        width, height = 320, 240
        source = rtc.VideoSource(width, height)
        track = rtc.LocalVideoTrack.create_video_track("camera", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA)
        await self.room.local_participant.publish_track(track, options)
        frames: dict[tuple[int, int, int], rtc.VideoFrame] = {}

        async def feed() -> None:
            loop = asyncio.get_running_loop()
            start, index = loop.time(), 0
            while True:
                rgb = colour_now()
                if rgb not in frames:
                    data = i420(rgb, width, height)
                    frames[rgb] = rtc.VideoFrame(width, height, rtc.VideoBufferType.I420, data)
                source.capture_frame(frames[rgb])
                index += 1
                await asyncio.sleep(max(0.0, start + index / fps - loop.time()))

        self.tasks.append(asyncio.create_task(feed()))

    async def _audio(self, chunk_at) -> None:
        # A short queue: capture_frame paces the feed at real time with little latency.
        source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=20)
        track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, options)

        async def feed() -> None:
            n = 0
            while True:
                pcm = np.ascontiguousarray(chunk_at(n), dtype=np.int16)
                await source.capture_frame(rtc.AudioFrame(pcm.tobytes(), SAMPLE_RATE, 1, CHUNK))
                n += CHUNK

        self.tasks.append(asyncio.create_task(feed()))

    async def leave(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.room.disconnect()


async def _main(spec: dict[str, Any]) -> None:
    members: dict[str, Synthetic] = {}
    for person in spec["people"]:
        member = await Synthetic.join(
            spec["url"], spec["key"], spec["secret"], person["room"], person["identity"]
        )
        members[person["identity"]] = member
        if "colour" in person:
            await member.publish_colour(tuple(person["colour"]))
        if "tone" in person:
            await member.publish_tone(person["tone"])
        if person.get("flashes"):
            await member.publish_flashes()
        if person.get("moving"):
            await member.publish_moving()
        if person.get("screen"):
            await member.publish_screen()
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    while (line := await loop.run_in_executor(None, sys.stdin.readline)) not in ("", "leave\n"):
        if line.strip() == "peers":
            seen = {i: list(m.room.remote_participants) for i, m in members.items()}
            print(json.dumps(seen), flush=True)
    for member in members.values():
        await member.leave()


class ParticipantsProcess:
    """The test side: start people in rooms, ask what they see, make them leave."""

    def __init__(self, url: str, key: str, secret: str, people: list[dict[str, Any]]) -> None:
        spec = json.dumps({"url": url, "key": key, "secret": secret, "people": people})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.worker.participants", spec],
            cwd=PROJECT_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        line = self._line(timeout=60)
        if line != "READY":
            self.close()
            raise RuntimeError(f"synthetic participants did not start: {line!r}")

    def _line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError(f"synthetic participants did not answer within {timeout}s")
        return self.process.stdout.readline().strip()  # "" when the child died

    def peers(self) -> dict[str, list[str]]:
        assert self.process.stdin is not None
        self.process.stdin.write("peers\n")
        self.process.stdin.flush()
        return json.loads(self._line(timeout=10))

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write("leave\n")
                self.process.stdin.close()
                self.process.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                stream.close()


if __name__ == "__main__":
    asyncio.run(_main(json.loads(sys.argv[1])))
