"""Mix every participant's audio into one s16 track, one chunk per video frame.

Sources push what arrives (48 kHz mono s16 from rtc.AudioStream); the frame clock pulls one
chunk per tick. A source contributes once it has a little more than a chunk buffered, so
jitter does not punch holes in the sound; a backlog beyond a few chunks is dropped so audio
never drifts late against the video.
"""

import numpy as np

SAMPLE_RATE = 48_000
S16_MIN, S16_MAX = np.int32(-32768), np.int32(32767)  # numpy scalars: no per-call checks


class _Source:
    def __init__(self) -> None:
        self.buffer = np.empty(0, np.int16)
        self.primed = False


class AudioMixer:
    """Sum of all sources, clipped to s16; silence when nobody sends anything."""

    def __init__(self, chunk: int, prebuffer: int = 480, max_backlog_chunks: int = 2) -> None:
        self.chunk = chunk  # samples per pull (one video frame)
        self.prebuffer = prebuffer  # extra samples a source holds before it starts playing
        self.max_backlog = max_backlog_chunks * chunk
        self._sources: dict[str, _Source] = {}
        self.dropped_samples = 0
        self.padded_samples = 0

    def push(self, key: str, pcm: np.ndarray) -> None:
        """Append samples (int16, mono) from source `key`."""
        source = self._sources.setdefault(key, _Source())
        source.buffer = np.concatenate((source.buffer, pcm))
        excess = len(source.buffer) - self.max_backlog
        if excess > 0:  # the clock fell behind or the source burst: keep audio near real time
            source.buffer = source.buffer[excess:]
            self.dropped_samples += excess

    def reset(self) -> None:
        """Forget what arrived so far (called when the clock starts)."""
        # Audio queued before the first frame would make the sound late for the whole file.
        for source in self._sources.values():
            source.buffer = source.buffer[:0]
            source.primed = False

    def remove(self, key: str) -> None:
        self._sources.pop(key, None)

    def pull(self) -> np.ndarray:
        """The next chunk of the mix (int16)."""
        mix = np.zeros(self.chunk, np.int32)
        for source in self._sources.values():
            if not source.primed:
                if len(source.buffer) < self.chunk + self.prebuffer:
                    continue
                source.primed = True
            take = source.buffer[: self.chunk]
            source.buffer = source.buffer[len(take) :]
            mix[: len(take)] += take
            if len(take) < self.chunk:  # ran dry: play what there is, wait to refill
                self.padded_samples += self.chunk - len(take)
                source.primed = False
        return np.clip(mix, S16_MIN, S16_MAX).astype(np.int16)
