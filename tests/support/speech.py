"""Human-like test speech: flite (Debian package `flite`) renders a sentence to a WAV, and a
synthetic participant's microphone says it in a room, in real time, through the `livekit`
SDK. PocketSphinx recognises flite's voices nearly word for word (eSpeak NG's not at all).

    wav = flite_wav("the weather was cold and windy")      # cached: cheap to call again
    mic = await Microphone.publish(room)                   # silence until it says something
    started, ended = await mic.say(wav)                    # unix times the speech went out
    assert word_error_rate(script, captions) < 0.25

From a test's thread, with BackgroundParticipants (tests/support/synthetic.py), whose loop
owns the rooms:

    mic = bots.call(lambda rooms: Microphone.publish(rooms[0]))
    started, ended = bots.call(lambda rooms: mic.say(wav))
"""

import asyncio
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from livekit import rtc

# flite's 16 kHz voices (its "kal" is 8 kHz and not recognised well).
VOICES = ("slt", "rms", "awb")
SAMPLE_RATE = 16_000  # what flite writes with them
FRAME_MS = 10  # a browser microphone's frame
CACHE_DIR = Path(tempfile.gettempdir()) / "meetings-flite"
# For a microphone in a test process that also serves the app and drives a browser: a CI
# run under full load garbled the start of a sentence through a 1 s queue.
LOADED_QUEUE_MS = 3000


def have_flite() -> bool:
    return shutil.which("flite") is not None


def flite_wav(text: str, voice: str = "slt") -> Path:
    """A 16 kHz mono WAV of `text` spoken by a flite voice, made once per text and voice."""
    if voice not in VOICES:
        raise ValueError(f"flite voice must be one of {VOICES}")
    digest = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()[:20]
    path = CACHE_DIR / f"{voice}-{digest}.wav"
    if not path.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: tests running side by side never read half a file.
        partial = path.with_suffix(f".{os.getpid()}.part")
        subprocess.run(
            ["flite", "-voice", voice, "-t", text, "-o", str(partial)],
            check=True,
            timeout=60,
            capture_output=True,
        )
        partial.replace(path)
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """The samples (int16, mono) and rate of a 16-bit mono WAV such as flite's."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError(f"{path} is not 16-bit mono")
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        return pcm, wav.getframerate()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance over the reference's length; case and punctuation
    do not count (PocketSphinx writes neither, Whisper both)."""
    ref, hyp = _words(reference), _words(hypothesis)
    if not ref:
        return float(bool(hyp))
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        current = [i]
        for j, hyp_word in enumerate(hyp, 1):
            current.append(
                min(
                    previous[j] + 1,  # deletion
                    current[j - 1] + 1,  # insertion
                    previous[j - 1] + (ref_word != hyp_word),  # substitution
                )
            )
        previous = current
    return previous[-1] / len(ref)


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


class Microphone:
    """A published microphone track that sends silence, and a WAV each time it is told to.

    Paced in real time by the audio source's queue, like a browser's microphone (which also
    sends silence between words). Create it and call say() on the room's event loop.
    """

    def __init__(self, room: rtc.Room, rate: int = SAMPLE_RATE, queue_ms: int = 1000) -> None:
        self.room = room
        self.rate = rate
        self.frame = rate * FRAME_MS // 1000
        # The queue rides out stalls of a busy test process's event loop (a 100 ms one turned
        # them into gaps inside words, which PocketSphinx then misheard); when the audio
        # leaves is still known: now + the source's queued_duration. Speech leaves up to
        # `queue_ms` after say(): a test that times an action against it uses the default.
        self.source = rtc.AudioSource(rate, 1, queue_size_ms=queue_ms)
        self.track: rtc.LocalAudioTrack | None = None
        self.track_sid = ""
        self._speech: asyncio.Queue[tuple[np.ndarray, asyncio.Future]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def publish(
        cls, room: rtc.Room, rate: int = SAMPLE_RATE, queue_ms: int = 1000
    ) -> "Microphone":
        mic = cls(room, rate, queue_ms)
        track = rtc.LocalAudioTrack.create_audio_track("microphone", mic.source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        publication = await room.local_participant.publish_track(track, options)
        mic.track, mic.track_sid = track, publication.sid
        mic._task = asyncio.create_task(mic._feed())
        return mic

    async def say(self, wav: Path) -> tuple[float, float]:
        """Speak the WAV (at the microphone's rate); returns the unix times its first and
        last sample went out, once the last has."""
        pcm, rate = read_wav(wav)
        if rate != self.rate:
            raise ValueError(f"{wav} is {rate} Hz; this microphone sends {self.rate} Hz")
        done = asyncio.get_running_loop().create_future()
        await self._speech.put((pcm, done))
        started, ended = await done
        await asyncio.sleep(max(0.0, ended - time.time()))
        return started, ended

    async def set_muted(self, muted: bool) -> None:
        """Mute as a browser's button does (the room is told; audio keeps flowing)."""
        assert self.track is not None
        if muted:
            self.track.mute()
        else:
            self.track.unmute()

    async def _feed(self) -> None:
        silence = np.zeros(self.frame, np.int16)
        while True:
            pcm, done = silence, None
            if not self._speech.empty():
                pcm, done = self._speech.get_nowait()
            # What is captured now goes out after what is already queued.
            started = time.time() + self.source.queued_duration
            for offset in range(0, len(pcm), self.frame):
                chunk = pcm[offset : offset + self.frame]
                if len(chunk) < self.frame:
                    chunk = np.concatenate((chunk, silence[: self.frame - len(chunk)]))
                # Waits while the queue is full: this paces the loop at real time.
                await self.source.capture_frame(
                    rtc.AudioFrame(chunk.tobytes(), self.rate, 1, self.frame)
                )
            if done is not None and not done.done():
                done.set_result((started, time.time() + self.source.queued_duration))

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.source.aclose()
