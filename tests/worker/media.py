"""Reading recordings back for the assertions: boxes, colours, loudness, flashes and beeps."""

import struct
from pathlib import Path

import av
import numpy as np


def top_level_boxes(path: Path) -> list[str]:
    """The MP4's top-level box types in file order."""
    boxes, data = [], path.read_bytes()
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode("latin-1"))
        if size < 8:
            break
        offset += size
    return boxes


def last_timestamp(path: Path) -> float:
    """The end of the last packet of any stream, in seconds (works on truncated files)."""
    end = 0.0
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.pts is None:
                continue
            stop = packet.pts + (packet.duration or 0)
            end = max(end, float(stop * packet.time_base))
    return end


def frame_at(path: Path, seconds: float) -> np.ndarray:
    """The decoded RGB frame nearest after `seconds`."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time >= seconds:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {seconds}s in {path}")


def audio_samples(path: Path) -> np.ndarray:
    """All audio as float mono in [-1, 1] at the stream's rate."""
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks.append(frame.to_ndarray().mean(axis=0))
    return np.concatenate(chunks)


def rising_edges(values: np.ndarray, times: np.ndarray, threshold: float) -> list[float]:
    """Times where `values` goes from below to at or above `threshold`."""
    above = values >= threshold
    return [float(times[i]) for i in range(1, len(values)) if above[i] and not above[i - 1]]


def flash_times(path: Path, x: int, y: int) -> list[float]:
    """When the video turns bright around (x, y)."""
    lumas, times = [], []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            plane = frame.to_ndarray()[: frame.height]  # the Y plane of yuv420p
            lumas.append(float(plane[y - 8 : y + 8, x - 8 : x + 8].mean()))
            times.append(frame.time)
    return rising_edges(np.array(lumas), np.array(times), 128)


def beep_times(path: Path, rate: int = 48_000) -> list[float]:
    """When the audio gets loud, in 5 ms windows."""
    samples = audio_samples(path)
    window = rate // 200
    count = len(samples) // window
    rms = np.sqrt((samples[: count * window].reshape(count, window) ** 2).mean(axis=1))
    return rising_edges(rms, np.arange(count) * window / rate, 0.1)
