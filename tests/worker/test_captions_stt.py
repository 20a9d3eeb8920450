"""The captions job's parts without LiveKit: the speech-to-text backends on flite speech, the
settings that choose them, and the events a final becomes."""

import asyncio
import socket
import time

import pytest

from meetings.livekit_process import free_port
from meetings.worker.captioner import Segment, load_resources, segment_event
from meetings.worker.settings import WorkerSettings
from meetings.worker.stt import (
    DecoderPool,
    OpenAIRecognizer,
    PocketSphinxRecognizer,
    SttSettings,
    SttUnavailable,
    make_recognizer,
)
from tests.support.environment import require
from tests.support.speech import flite_wav, have_flite, read_wav, word_error_rate
from tests.worker.stt_server import SttServer

SENTENCE = "please send me the report before the end of the week"
VAD_WINDOW = 1024  # bytes: 32 ms at 16 kHz, what the VAD hands the recogniser
ENV = {
    "LIVEKIT_URL": "ws://127.0.0.1:7880",
    "LIVEKIT_API_KEY": "key",
    "LIVEKIT_API_SECRET": "secret",
    "MEETINGS_APP_URL": "http://127.0.0.1:8000/",
}


@pytest.fixture(scope="module")
def pool() -> DecoderPool:
    """What prewarm loads in a job process: one PocketSphinx decoder."""
    decoders = DecoderPool()
    decoders.prewarm(1)
    return decoders


@pytest.fixture(scope="module")
def speech() -> bytes:
    require(have_flite(), "flite (Debian package)")
    pcm, rate = read_wav(flite_wav(SENTENCE, "slt"))
    assert rate == 16_000
    return pcm.tobytes()


@pytest.mark.parametrize(
    ("reference", "hypothesis", "expected"),
    [
        ("the cat sat", "the cat sat", 0.0),
        ("the cat sat", "The cat, sat.", 0.0),  # Whisper's case and punctuation do not count
        ("the cat sat", "the bat sat", 1 / 3),  # substitution
        ("the cat sat", "the sat", 1 / 3),  # deletion
        ("the cat sat", "the cat sat down", 1 / 3),  # insertion
        ("the cat sat", "", 1.0),
        ("a b c d", "b c d a", 0.5),  # a word moved costs a deletion and an insertion
    ],
)
def test_word_error_rate(reference, hypothesis, expected):
    assert word_error_rate(reference, hypothesis) == pytest.approx(expected)


def test_settings_choose_the_backend_and_keep_the_key_out_of_logs():
    default = WorkerSettings.from_env(ENV)
    assert SttSettings.of(default) == SttSettings(backend="pocketsphinx")
    chosen = WorkerSettings.from_env(
        {
            **ENV,
            "STT": "openai",
            "STT_URL": "http://whisper.internal:8000/v1",
            "STT_API_KEY": "sk-very-secret",
            "STT_MODEL": "large-v3",
        }
    )
    stt = SttSettings.of(chosen)
    assert (stt.backend, stt.url, stt.api_key, stt.model) == (
        "openai",
        "http://whisper.internal:8000/v1",
        "sk-very-secret",
        "large-v3",
    )
    assert "sk-very-secret" not in repr(chosen) + repr(stt)


@pytest.mark.parametrize(
    ("env", "message"),
    [({"STT": "vosk"}, "STT must be one of"), ({"STT": "openai"}, "STT=openai needs STT_URL")],
)
def test_settings_refuse_an_unusable_backend(env, message):
    with pytest.raises(ValueError, match=message):
        WorkerSettings.from_env({**ENV, **env})


def test_pocketsphinx_streams_interims_and_a_final(pool, speech):
    async def recognise() -> tuple[list[str], str]:
        utterance = await PocketSphinxRecognizer(pool).start()
        interims = []
        for offset in range(0, len(speech), VAD_WINDOW):
            if (text := await utterance.push(speech[offset : offset + VAD_WINDOW])) is not None:
                interims.append(text)
        return interims, await utterance.finish()

    interims, final = asyncio.run(recognise())
    # One every 0.5 s of speech, growing towards the sentence.
    assert len(interims) >= 5
    assert len(interims[-1].split()) > len(interims[0].split())
    assert word_error_rate(SENTENCE, final) < 0.25, final


def test_pocketsphinx_decoders_are_reused_and_start_afresh(pool, speech):
    recognizer = PocketSphinxRecognizer(pool)

    async def twice() -> list[str]:
        texts = []
        for _ in range(2):
            utterance = await recognizer.start()
            await utterance.push(speech)
            texts.append(await utterance.finish())
        return texts

    idle_before = pool.idle
    first, second = asyncio.run(twice())
    assert first == second
    assert pool.idle == idle_before  # each went back to the pool


def test_pocketsphinx_serves_english_only(pool):
    with pytest.raises(SttUnavailable, match="only an English model"):
        make_recognizer(SttSettings(), "fr", pool)
    assert make_recognizer(SttSettings(), "en-GB", pool).name == "pocketsphinx"


def test_a_final_becomes_the_contracts_event():
    segment = Segment("SG_1", "ann", "Ann Example", "TR_1", 1000.123, 1003.456, "hi", True)
    assert segment_event(segment, origin=990.0) == {
        "segment_id": "SG_1",
        "identity": "ann",
        "display_name": "Ann Example",
        "start": 10.12,
        "end": 13.46,
        "text": "hi",
    }


def test_prewarm_loads_a_decoder_only_for_pocketsphinx():
    assert load_resources(SttSettings()).pool.idle == 1
    assert load_resources(SttSettings("openai", "http://127.0.0.1:9/v1")).pool.idle == 0


def _openai(url: str, **options) -> OpenAIRecognizer:
    return OpenAIRecognizer(SttSettings(backend="openai", url=url, **options), "en")


async def _transcribe(recognizer: OpenAIRecognizer, pcm: bytes) -> str:
    try:
        utterance = await recognizer.start()
        for offset in range(0, len(pcm), VAD_WINDOW):
            assert await utterance.push(pcm[offset : offset + VAD_WINDOW]) is None
        return await utterance.finish()
    finally:
        await recognizer.aclose()


def test_openai_sends_one_wav_per_utterance(speech):
    server = SttServer(text=" the report, before the week. ").start()
    try:
        recognizer = _openai(server.url, api_key="sk-test", model="large-v3")
        text = asyncio.run(_transcribe(recognizer, speech))
    finally:
        server.stop()
    assert text == "the report, before the week."
    (request,) = server.received
    assert request.authorization == "Bearer sk-test"
    assert (request.fields["model"], request.fields["language"]) == ("large-v3", "en")
    assert request.wav[:4] == b"RIFF" and len(request.wav) == len(speech) + 44


def test_openai_at_a_closed_port_is_unavailable_at_once(speech):
    url = f"http://127.0.0.1:{free_port()}/v1"
    started = time.monotonic()
    with pytest.raises(SttUnavailable, match="STT server failed: APIConnectionError"):
        asyncio.run(_transcribe(_openai(url), speech))
    with pytest.raises(SttUnavailable, match="STT server failed"):
        asyncio.run(_probe(_openai(url)))
    assert time.monotonic() - started < 5


def test_openai_that_never_answers_is_too_slow(speech):
    # A listening socket that never accepts: connected, and no answer ever comes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        started = time.monotonic()
        with pytest.raises(SttUnavailable, match=r"no answer within 1\.5 s"):
            asyncio.run(_transcribe(_openai(url, timeout=1.5), speech))
        assert time.monotonic() - started < 4


def test_openai_server_errors_are_unavailable(speech):
    server = SttServer(mode="fail").start()
    try:
        with pytest.raises(SttUnavailable, match="STT server failed: HTTP 500"):
            asyncio.run(_transcribe(_openai(server.url), speech))
        asyncio.run(_probe(_openai(server.url)))  # it answers its models: it is there
    finally:
        server.stop()


async def _probe(recognizer: OpenAIRecognizer) -> None:
    try:
        await recognizer.probe()
    finally:
        await recognizer.aclose()
