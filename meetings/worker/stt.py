"""Speech-to-text backends for captions: PocketSphinx on the box, or an OpenAI-compatible server.

A `Recognizer` opens one `Utterance` per stretch of speech that the VAD found. Audio is
s16le mono at 16 kHz. Every failure a backend can have surfaces as `SttUnavailable`, which
the captioner turns into "captions unavailable" instead of a crash.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import openai
import pocketsphinx
from livekit import rtc
from livekit.agents import APIConnectOptions, APIError
from livekit.plugins import openai as openai_plugin

from meetings.worker.settings import WorkerSettings

T = TypeVar("T")

logger = logging.getLogger("meetings.worker.stt")

SAMPLE_RATE = 16_000
BYTES_PER_SECOND = SAMPLE_RATE * 2
# PocketSphinx's Cython binding holds the GIL inside process_raw: 20 ms chunks (~2 ms of CPU
# each) let the event loop run between them.
CHUNK_BYTES = BYTES_PER_SECOND // 50
INTERIM_BYTES = BYTES_PER_SECOND // 2  # an interim hypothesis every 0.5 s of speech
# Utterances are cut here so a monologue still yields finals (and a bounded upload).
MAX_UTTERANCE_SECONDS = 20.0
PROBE_TIMEOUT_SECONDS = 5.0


class SttUnavailable(Exception):
    """The backend cannot transcribe now; `reason` is safe to show to users and the app."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Utterance(Protocol):
    async def push(self, pcm: bytes) -> str | None:
        """Feed speech; return the current hypothesis when an interim is due, else None."""
        ...

    async def finish(self) -> str:
        """End the utterance and return its final text ("" when nothing was recognised)."""
        ...

    async def cancel(self) -> None:
        """Drop the utterance without a result."""
        ...


class Recognizer(Protocol):
    name: str
    # Whether probe() tells anything: a server can be asked whether it is back; a model in
    # this process cannot.
    can_probe: bool

    async def start(self) -> Utterance: ...

    async def probe(self) -> None:
        """Raises: SttUnavailable when the backend cannot be reached."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class SttSettings:
    """The worker's STT, STT_URL, STT_API_KEY and STT_MODEL settings."""

    backend: str = "pocketsphinx"
    url: str = ""
    api_key: str = field(default="", repr=False)  # kept out of logs
    model: str = "whisper-1"
    # No final within this many seconds: the backend is too slow, captions are unavailable.
    timeout: float = 10.0

    @classmethod
    def of(cls, settings: WorkerSettings) -> "SttSettings":
        return cls(settings.stt, settings.stt_url, settings.stt_api_key, settings.stt_model)


# --- PocketSphinx -----------------------------------------------------------------------


class DecoderPool:
    """PocketSphinx decoders of one process. Each costs ~0.3 s to load and ~100 MB, so they
    are made once (in prewarm) and reused: one per *concurrently speaking* participant, not
    one per participant.

    Loading holds the GIL, so a decoder made during a job stalls the event loop for the load
    time even from a thread: received audio then waits in the SDK's queue and captions come
    late, nothing is lost.
    """

    def __init__(self, max_idle: int = 2) -> None:
        self.max_idle = max_idle
        self.load_seconds: float | None = None
        self._idle: list[pocketsphinx.Decoder] = []

    @property
    def idle(self) -> int:
        return len(self._idle)

    def _new(self) -> pocketsphinx.Decoder:
        started = time.perf_counter()
        # The wheel's bundled en-us model is the default.
        decoder = pocketsphinx.Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self.load_seconds = time.perf_counter() - started
        return decoder

    def prewarm(self, count: int = 1) -> None:
        """Load decoders until `count` are idle (blocking); call from the prewarm step."""
        self.max_idle = max(self.max_idle, count)
        while len(self._idle) < count:
            self._idle.append(self._new())

    async def acquire(self) -> pocketsphinx.Decoder:
        """Raises: SttUnavailable when the model cannot be loaded."""
        if self._idle:
            return self._idle.pop()
        try:
            return await asyncio.to_thread(self._new)
        except (RuntimeError, OSError, ValueError) as exc:
            raise SttUnavailable(f"PocketSphinx model failed to load: {exc}") from exc

    def release(self, decoder: pocketsphinx.Decoder) -> None:
        if len(self._idle) < self.max_idle:
            self._idle.append(decoder)


class _SphinxUtterance:
    def __init__(self, pool: DecoderPool, decoder: pocketsphinx.Decoder) -> None:
        self._pool = pool
        self._decoder: pocketsphinx.Decoder | None = decoder
        self._started = False
        self._since_interim = 0

    async def push(self, pcm: bytes) -> str | None:
        self._since_interim += len(pcm)
        due = self._since_interim >= INTERIM_BYTES
        if due:
            self._since_interim = 0
        return await self._in_thread(self._decode, pcm, due)

    async def finish(self) -> str:
        text = await self._in_thread(self._end)
        self._give_back()
        return text or ""

    async def cancel(self) -> None:
        if self._decoder is not None and self._started:
            await self._in_thread(self._end)
        self._give_back()

    # Worker-thread side: one thread call at a time touches the decoder, because the caller
    # awaits each call before making the next.
    def _decode(self, pcm: bytes, want_hypothesis: bool) -> str | None:
        assert self._decoder is not None
        if not self._started:
            self._decoder.start_utt()
            self._started = True
        for offset in range(0, len(pcm), CHUNK_BYTES):
            self._decoder.process_raw(pcm[offset : offset + CHUNK_BYTES], False, False)
        return self._hypothesis() if want_hypothesis else None

    def _end(self) -> str | None:
        assert self._decoder is not None
        if not self._started:
            return ""
        self._started = False
        self._decoder.end_utt()
        return self._hypothesis()

    def _hypothesis(self) -> str:
        assert self._decoder is not None
        hyp = self._decoder.hyp()
        return hyp.hypstr if hyp is not None else ""

    async def _in_thread(self, fn: Callable[..., T], *args: object) -> T:
        if self._decoder is None:
            raise SttUnavailable("PocketSphinx utterance already ended")
        try:
            return await asyncio.to_thread(fn, *args)
        except RuntimeError as exc:
            self._decoder = None  # a decoder in an unknown state is not pooled again
            raise SttUnavailable(f"PocketSphinx failed: {exc}") from exc

    def _give_back(self) -> None:
        if self._decoder is not None:
            self._pool.release(self._decoder)
            self._decoder = None


class PocketSphinxRecognizer:
    """Streaming: decodes 20 ms chunks while the person speaks, final at end of speech."""

    name = "pocketsphinx"
    can_probe = False

    def __init__(self, pool: DecoderPool) -> None:
        self._pool = pool

    async def start(self) -> Utterance:
        return _SphinxUtterance(self._pool, await self._pool.acquire())

    async def probe(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


# --- OpenAI-compatible server -----------------------------------------------------------


class _BufferedUtterance:
    def __init__(self, recognizer: "OpenAIRecognizer") -> None:
        self._recognizer = recognizer
        self._pcm = bytearray()

    async def push(self, pcm: bytes) -> str | None:
        self._pcm += pcm  # no interim: the server is asked once per utterance
        return None

    async def finish(self) -> str:
        pcm, self._pcm = bytes(self._pcm), bytearray()
        if not pcm:
            return ""
        return await self._recognizer.transcribe(pcm)

    async def cancel(self) -> None:
        self._pcm = bytearray()


class OpenAIRecognizer:
    """Not streaming: each utterance goes as one WAV once the VAD saw it end, through the
    livekit-agents OpenAI plugin (POST {STT_URL}/audio/transcriptions)."""

    name = "openai"
    can_probe = True

    def __init__(self, settings: SttSettings, language: str) -> None:
        if not settings.url:
            raise SttUnavailable("STT=openai needs STT_URL")
        self._timeout = settings.timeout
        self._language = language
        # Our own client: the plugin's STT.aclose() closes only its websocket pool, never
        # the HTTP client it makes itself.
        self._client = openai.AsyncClient(
            base_url=settings.url,
            # Self-hosted servers often need no key, but the client refuses an empty one.
            api_key=settings.api_key or "unused",
            max_retries=0,
            timeout=settings.timeout,
        )
        self._stt = openai_plugin.STT(
            client=self._client, model=settings.model, language=language, use_realtime=False
        )

    async def start(self) -> Utterance:
        return _BufferedUtterance(self)

    async def transcribe(self, pcm: bytes) -> str:
        """Raises: SttUnavailable when the server fails or gives no answer in time."""
        frame = rtc.AudioFrame(pcm, SAMPLE_RATE, 1, len(pcm) // 2)
        # One attempt, bounded here: the captioner owns retrying (after a back-off), and the
        # plugin's own read timeout is 30 s.
        options = APIConnectOptions(max_retry=0, timeout=self._timeout)
        try:
            event = await asyncio.wait_for(
                self._stt.recognize([frame], language=self._language, conn_options=options),
                self._timeout,
            )
        except TimeoutError as exc:
            raise SttUnavailable(f"STT server gave no answer within {self._timeout:g} s") from exc
        except APIError as exc:
            cause = exc.__cause__ or exc
            raise SttUnavailable(f"STT server failed: {_describe(cause)}") from exc
        return event.alternatives[0].text.strip() if event.alternatives else ""

    async def probe(self) -> None:
        """Ask the server for its models: any answer but a refused key means it is there."""
        # Some OpenAI-compatible servers have no /models (404): reachable all the same.
        try:
            await asyncio.wait_for(self._client.models.list(), PROBE_TIMEOUT_SECONDS)
        except TimeoutError as exc:
            raise SttUnavailable(
                f"STT server gave no answer within {PROBE_TIMEOUT_SECONDS:g} s"
            ) from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise SttUnavailable(f"STT server refused the key: HTTP {exc.status_code}") from exc
        except openai.APIStatusError:
            return
        except openai.APIError as exc:
            raise SttUnavailable(f"STT server failed: {_describe(exc)}") from exc

    async def aclose(self) -> None:
        await self._stt.aclose()
        await self._client.close()


def _describe(exc: BaseException) -> str:
    """What went wrong, short; the server's own words for an HTTP error stay in the log."""
    status = getattr(exc, "status_code", None)  # openai's and livekit-agents' status errors
    if isinstance(status, int) and status > 0:
        logger.info("STT server answered HTTP %s: %s", status, exc)
        return f"HTTP {status}"
    return f"{type(exc).__name__}: {exc}"


def make_recognizer(settings: SttSettings, language: str, pool: DecoderPool) -> Recognizer:
    """Raises: SttUnavailable when the settings or the language cannot be served."""
    if settings.backend == "pocketsphinx":
        if not language.lower().startswith("en"):
            raise SttUnavailable(f"PocketSphinx has only an English model (asked: {language})")
        return PocketSphinxRecognizer(pool)
    if settings.backend == "openai":
        return OpenAIRecognizer(settings, language)
    raise SttUnavailable(f"unknown STT backend {settings.backend!r}")
