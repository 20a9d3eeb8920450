"""Fixtures for the streaming building blocks: synthetic media, an FFmpeg RTMP receiver and
pusher, and a real livekit-server for the ingest tests. All traffic stays on 127.0.0.1."""

import asyncio
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from meetings.livekit_process import (
    DEFAULT_BINARY,
    LiveKitServer,
    LiveKitServerConfig,
    LiveKitStartError,
    free_port,
    free_udp_port,
    new_api_key,
)
from tests.conftest import require
from tests.support import leak_check
from tests.support.leaks import open_socket_inodes

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
FPS, RATE, AUDIO_SAMPLES = 25, 48000, 960  # 20 ms audio frames, as the compositor's mixer
BITS = 12  # frame number painted as 12 black/white squares: survives H.264 at any bitrate
SQUARE = 32


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    require(Path(FFMPEG).exists(), "ffmpeg (Debian package)")
    return FFMPEG


def synthetic_video(index: int, width: int = 1280, height: int = 720) -> av.VideoFrame:
    """A moving diagonal gradient with the frame number in its top-left corner."""
    luma = (np.add.outer(np.arange(height), np.arange(width) + index * 8) % 220 + 16).astype(
        np.uint8
    )
    for bit in range(BITS):
        value = 235 if index >> bit & 1 else 16
        luma[0:SQUARE, bit * SQUARE : (bit + 1) * SQUARE] = value
    chroma = np.full((height // 2, width), 128, np.uint8)
    frame = av.VideoFrame.from_ndarray(np.vstack([luma, chroma]), format="yuv420p")
    frame.pts, frame.time_base = index, Fraction(1, FPS)
    return frame


def frame_number(frame: av.VideoFrame) -> int:
    """Read back the number `synthetic_video` painted."""
    luma = frame.to_ndarray(format="gray")
    centre = SQUARE // 2
    return sum(1 << bit for bit in range(BITS) if luma[centre, bit * SQUARE + centre] > 128)


def synthetic_audio(index: int, frequency: float = 440.0) -> av.AudioFrame:
    """20 ms of a sine tone, 48 kHz mono s16."""
    t = (np.arange(AUDIO_SAMPLES) + index * AUDIO_SAMPLES) / RATE
    samples = (np.sin(2 * np.pi * frequency * t) * 8000).astype(np.int16).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
    frame.sample_rate, frame.pts, frame.time_base = RATE, index * AUDIO_SAMPLES, Fraction(1, RATE)
    return frame


def push_realtime(
    push_video: Callable[[av.VideoFrame], None],
    push_audio: Callable[[av.AudioFrame], None],
    seconds: float,
    on_frame: Callable[[int, float], None] | None = None,
) -> None:
    """Feed `seconds` of synthetic media at the pace a compositor would."""
    start = time.monotonic()
    for index in range(int(seconds * FPS)):
        if on_frame is not None:
            on_frame(index, time.monotonic())
        push_video(synthetic_video(index))
        push_audio(synthetic_audio(2 * index))
        push_audio(synthetic_audio(2 * index + 1))
        time.sleep(max(0.0, start + (index + 1) / FPS - time.monotonic()))


@dataclass
class Receiver:
    """`ffmpeg -listen 1` saving what it receives: a stand-in for YouTube or Twitch."""

    process: subprocess.Popen
    url: str  # rtmp://127.0.0.1:PORT/live
    key: str
    path: Path

    def wait(self, timeout: float = 20) -> int:
        return self.process.wait(timeout)


@pytest.fixture
def rtmp_receiver(ffmpeg: str, tmp_path: Path) -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(key: str, port: int | None = None) -> Receiver:
        port = port or free_port()
        path = tmp_path / f"received-{port}-{len(started)}.flv"
        cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-listen", "1"]
        cmd += ["-i", f"rtmp://127.0.0.1:{port}/live/{key}", "-c", "copy", str(path)]
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        receiver = Receiver(process, f"rtmp://127.0.0.1:{port}/live", key, path)
        started.append(receiver)
        wait_for_listen(port)
        return receiver

    yield start
    for receiver in started:
        stop_process(receiver.process)


def wait_for_listen(port: int, timeout: float = 10.0) -> None:
    """Until something listens on the port (ss is not everywhere: read /proc)."""
    needle = f":{port:04X} 00000000:0000 0A"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in Path("/proc/net/tcp").read_text():
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


def ffmpeg_push(ffmpeg: str, url: str, seconds: float | None = None) -> subprocess.Popen:
    """The encoder a host would run (OBS stand-in): test pattern + tone, H.264 + AAC, FLV."""
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-re"]
    cmd += ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25"]
    cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    if seconds is not None:
        cmd += ["-t", str(seconds)]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "50"]
    cmd += ["-c:a", "aac", "-f", "flv", url]
    return subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def probe(path: Path) -> dict[str, Any]:
    """Codecs and duration of a received file, read with PyAV."""
    with av.open(str(path)) as container:
        found: dict[str, Any] = {s.type: s.codec_context.name for s in container.streams}
        last, keyframes = 0.0, []
        for packet in container.demux():
            if packet.pts is not None and packet.time_base is not None:
                seconds = float(packet.pts * packet.time_base)
                last = max(last, seconds)
                if packet.stream.type == "video" and packet.is_keyframe:
                    keyframes.append(seconds)
        found["duration"], found["keyframes"] = last, keyframes
    return found


# ---- a real livekit-server (tier 2) ----


@dataclass
class LiveKit:
    server: LiveKitServer

    @property
    def url(self) -> str:
        return self.server.config.ws_url

    @property
    def http_url(self) -> str:
        return self.server.config.url

    @property
    def key(self) -> str:
        return self.server.config.api_key

    @property
    def secret(self) -> str:
        return self.server.config.api_secret


@pytest.fixture(scope="session")
def livekit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveKit]:
    require(DEFAULT_BINARY.exists(), "livekit-server")
    key, secret = new_api_key()
    for attempt in range(3):
        config = LiveKitServerConfig(
            api_key=key,
            api_secret=secret,
            port=free_port(),
            rtc_tcp_port=free_port(),
            rtc_udp_port=free_udp_port(),
        )
        try:
            server = LiveKitServer(config, tmp_path_factory.mktemp("livekit-streaming")).start()
            break
        except LiveKitStartError:
            # A free port can be taken by another process before the server binds it.
            if attempt == 2:
                raise
    try:
        yield LiveKit(server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def rtc_runtime() -> None:
    """The SDK's native runtime starts once per process and stays: it belongs to the session,
    not to the first test that happens to use it."""
    from livekit import rtc

    async def touch() -> None:
        # One captured frame makes the native side call back into Python, which registers
        # its callback thread with `threading` (a dummy thread that cannot be joined).
        source = rtc.AudioSource(RATE, 1)
        silence = rtc.AudioFrame(bytes(2 * AUDIO_SAMPLES), RATE, 1, AUDIO_SAMPLES)
        await source.capture_frame(silence)
        await source.aclose()

    asyncio.run(touch())


@pytest.fixture
def sdk_threads(rtc_runtime: None) -> Iterator[None]:
    """What the SDK's native side leaves behind on its own schedule, accounted for:

    - its threads become `threading` dummy threads the first time each calls into Python,
      which may be in any test; they live as long as the runtime and cannot be joined, so
      they are handed to the leak check as owned by the session;
    - its DNS lookups (UDP to port 53, this machine has no resolver that answers) close
      when the resolver gives up, a few seconds later: wait for that, within a bound.
    """
    before = set(threading.enumerate())
    yield
    new = {t for t in threading.enumerate() if isinstance(t, threading._DummyThread)} - before
    leak_check.CHECK.owned_threads |= new
    deadline = time.monotonic() + 15
    while _pending_dns_lookups() and time.monotonic() < deadline:
        time.sleep(0.2)


def _pending_dns_lookups() -> int:
    """This process's UDP sockets talking to port 53 (the table lists the whole host's)."""
    mine = open_socket_inodes()
    lines = Path("/proc/self/net/udp").read_text().splitlines()[1:]
    return sum(1 for f in map(str.split, lines) if f[2].endswith(":0035") and f[9] in mine)
