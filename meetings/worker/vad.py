"""Voice activity detection for captions, and the clock that dates what a speaker said.

Silero (from livekit-plugins-silero, whose wheel ships silero_vad.onnx) decides when someone
speaks, so the recogniser is fed speech only: silence costs one small ONNX inference per
32 ms window and nothing more.
"""

import os
import time

# onnxruntime (brought in by the Silero plugin) carries a telemetry uploader (its library names
# mobile.events.data.microsoft.com and ~/.cache/Microsoft/DeveloperTools/.onnxruntime). A
# self-hosted service must not phone home; this variable, read when onnxruntime loads, turns
# it off. Nothing of ours imports onnxruntime before this module.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

# The Silero plugin loads onnxruntime: after the variable above.
from livekit.agents import vad as agents_vad
from livekit.plugins import silero

SAMPLE_RATE = 16_000

# Captions are judged by how soon a sentence appears once it is said: every 0.1 s of
# min_silence_duration is 0.1 s of caption latency. 0.5 s still keeps the short pauses
# inside a sentence from splitting it.
MIN_SILENCE_SECONDS = 0.5


def load_vad() -> agents_vad.VAD:
    """Load the Silero model (blocking, ~0.1 s): once per process, in the prewarm step."""
    return silero.VAD.load(
        sample_rate=SAMPLE_RATE,
        min_silence_duration=MIN_SILENCE_SECONDS,
        # Word onsets that the detector only confirms a few windows later are kept.
        prefix_padding_duration=0.3,
        force_cpu=True,
    )


class SampleClock:
    """Map a sample index of one audio track to wall-clock time (unix seconds).

    Received frames carry no timestamps, so the clock is anchored on arrival times:
    `anchor + samples / rate`. Frames that arrive earlier than predicted pull the anchor
    back (the first frame may have been late); frames more than `gap` seconds late mean the
    track paused (mute, network) and re-anchor it. A backlog that is then caught up is
    undone by the first rule.
    """

    def __init__(self, rate: int = SAMPLE_RATE, gap: float = 1.0) -> None:
        self.rate = rate
        self.gap = gap
        self.samples = 0
        self._anchor: float | None = None

    def advance(self, samples: int, now: float | None = None) -> None:
        """Record that `samples` more samples have just arrived."""
        self.samples += samples
        now = time.time() if now is None else now
        implied = now - self.samples / self.rate
        if self._anchor is None or implied - self._anchor > self.gap:
            self._anchor = implied
        else:
            self._anchor = min(self._anchor, implied)

    def wall_time(self, sample: int) -> float:
        """Unix time at which `sample` was spoken (as seen from this worker)."""
        anchor = time.time() - self.samples / self.rate if self._anchor is None else self._anchor
        return anchor + sample / self.rate
