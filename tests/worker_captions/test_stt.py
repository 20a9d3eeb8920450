"""The recognisers alone, on flite speech, without LiveKit; and the WER helper."""

import asyncio
import socket
import time

import pytest

from meetings.livekit_process import free_port
from meetings.worker.captioner import CaptionResources
from meetings.worker.stt import (
    OpenAIRecognizer,
    PocketSphinxRecognizer,
    SttSettings,
    SttUnavailable,
    make_recognizer,
)
from tests.worker_captions.helpers import wer

SENTENCE = "the children played in the garden until it was time for dinner"
VAD_WINDOW = 1024  # bytes: 32 ms at 16 kHz, what the VAD hands the recogniser


@pytest.mark.parametrize(
    ("reference", "hypothesis", "expected"),
    [
        ("the cat sat", "the cat sat", 0.0),
        ("the cat sat", "The  Cat sat", 0.0),
        ("the cat sat", "the bat sat", 1 / 3),  # substitution
        ("the cat sat", "the sat", 1 / 3),  # deletion
        ("the cat sat", "the cat sat down", 1 / 3),  # insertion
        ("the cat sat", "", 1.0),
        ("a b c d", "b c d a", 0.5),  # a shifted word costs a deletion and an insertion
    ],
)
def test_wer(reference: str, hypothesis: str, expected: float) -> None:
    assert wer(reference, hypothesis) == pytest.approx(expected)


def test_pocketsphinx_streams_interims_and_a_final(resources: CaptionResources, speech) -> None:
    pcm = speech(SENTENCE, "slt").pcm16k()

    async def recognise() -> tuple[list[str], str]:
        utterance = await PocketSphinxRecognizer(resources.pool).start()
        interims = []
        for offset in range(0, len(pcm), VAD_WINDOW):
            if (text := await utterance.push(pcm[offset : offset + VAD_WINDOW])) is not None:
                interims.append(text)
        return interims, await utterance.finish()

    interims, final = asyncio.run(recognise())
    # ~0.5 s apart: a 3.5 s sentence gives about seven, growing towards the sentence.
    assert len(interims) >= 5
    assert wer(SENTENCE, interims[-1]) < 0.5
    assert wer(SENTENCE, final) < 0.25, final


def test_pocketsphinx_decoders_are_reused(resources: CaptionResources, speech) -> None:
    pcm = speech("can you please call me back when you have a free moment", "rms").pcm16k()
    recognizer = PocketSphinxRecognizer(resources.pool)

    async def twice() -> list[str]:
        texts = []
        for _ in range(2):
            utterance = await recognizer.start()
            await utterance.push(pcm)
            texts.append(await utterance.finish())
        return texts

    idle_before = len(resources.pool._idle)
    first, second = asyncio.run(twice())
    assert first == second  # a pooled decoder starts each utterance afresh
    assert len(resources.pool._idle) == idle_before  # and went back to the pool


def test_pocketsphinx_serves_english_only(resources: CaptionResources) -> None:
    with pytest.raises(SttUnavailable, match="English"):
        make_recognizer(SttSettings(), "fr", resources.pool)


def test_openai_at_a_closed_port_is_unavailable(speech) -> None:
    settings = SttSettings(backend="openai", url=f"http://127.0.0.1:{free_port()}/v1")
    pcm = speech(SENTENCE).pcm16k()

    async def attempt() -> None:
        recognizer = OpenAIRecognizer(settings, "en")
        try:
            utterance = await recognizer.start()
            await utterance.push(pcm)
            await utterance.finish()
        finally:
            await recognizer.aclose()

    started = time.monotonic()
    with pytest.raises(SttUnavailable, match="STT server failed"):
        asyncio.run(attempt())
    assert time.monotonic() - started < 5


def test_openai_that_never_answers_times_out(speech) -> None:
    pcm = speech(SENTENCE).pcm16k()
    # A listening socket that never accepts: the connection is made, no answer ever comes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        settings = SttSettings(backend="openai", url=f"http://127.0.0.1:{port}/v1", timeout=1.5)

        async def attempt() -> None:
            recognizer = OpenAIRecognizer(settings, "en")
            try:
                utterance = await recognizer.start()
                await utterance.push(pcm)
                await utterance.finish()
            finally:
                await recognizer.aclose()

        started = time.monotonic()
        with pytest.raises(SttUnavailable, match=r"no answer within 1\.5 s"):
            asyncio.run(attempt())
        assert time.monotonic() - started < 4


def test_openai_sends_one_wav_per_utterance(speech) -> None:
    """Against a stand-in OpenAI-compatible server: what is posted, and what comes back."""
    from aiohttp import web

    pcm = speech(SENTENCE).pcm16k()
    posted: list[dict] = []

    async def transcriptions(request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        posted.append(
            {
                "path": request.path,
                "auth": request.headers.get("Authorization"),
                "model": form["model"],
                "language": form.get("language"),
                "wav": upload.file.read(),
            }
        )
        return web.json_response({"text": " the children played "})

    async def attempt() -> str:
        app = web.Application()
        app.router.add_post("/v1/audio/transcriptions", transcriptions)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        settings = SttSettings(
            backend="openai", url=f"http://127.0.0.1:{port}/v1", api_key="sk-test"
        )
        recognizer = OpenAIRecognizer(settings, "en")
        try:
            utterance = await recognizer.start()
            for offset in range(0, len(pcm), VAD_WINDOW):
                assert await utterance.push(pcm[offset : offset + VAD_WINDOW]) is None
            return await utterance.finish()
        finally:
            await recognizer.aclose()
            await runner.cleanup()

    assert asyncio.run(attempt()) == "the children played"
    (request,) = posted
    assert request["auth"] == "Bearer sk-test"
    assert (request["model"], request["language"]) == ("whisper-1", "en")
    assert request["wav"][:4] == b"RIFF" and len(request["wav"]) == len(pcm) + 44
