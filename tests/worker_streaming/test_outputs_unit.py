"""Fast checks of what the host sees about an output: its masked address and its state."""

import asyncio
import socket
import time
from pathlib import Path

import pytest

from meetings.livekit_process import free_port
from meetings.worker.outputs import (
    HlsOutput,
    OutputState,
    RtmpOutput,
    StreamOutputs,
    mask_secret,
    specs_from_job,
    stream_out,
)
from tests.worker_streaming.conftest import synthetic_audio, synthetic_video


@pytest.mark.parametrize(
    ("text", "secret", "expected"),
    [
        ("rtmp://a/live2/abcd-efgh-ijkl-mnop", "abcd-efgh-ijkl-mnop", "rtmp://a/live2/****mnop"),
        ("key sk_12345678 twice sk_12345678", "sk_12345678", "key ****5678 twice ****5678"),
        ("short key abc123 hidden whole", "abc123", "short key **** hidden whole"),
        ("nothing to hide", "", "nothing to hide"),
    ],
)
def test_mask_secret(text: str, secret: str, expected: str) -> None:
    assert mask_secret(text, secret) == expected


@pytest.mark.parametrize(
    ("output", "label", "target"),
    [
        (
            RtmpOutput("rtmp://live.twitch.tv/app/", "live_1234_abcdefgh"),
            "rtmp://live.twitch.tv/app/****efgh",
            "rtmp://live.twitch.tv/app/live_1234_abcdefgh",
        ),
        (  # the whole URL pasted, key included
            RtmpOutput("rtmps://host:443/rtmp/FB-123456789-0-Abcdefgh"),
            "rtmps://host:443/rtmp/****efgh",
            "rtmps://host:443/rtmp/FB-123456789-0-Abcdefgh",
        ),
        (RtmpOutput("rtmp://host/live"), "rtmp://host/live", "rtmp://host/live"),
    ],
)
def test_rtmp_output_label_never_shows_the_key(output: RtmpOutput, label: str, target: str) -> None:
    assert output.label == label
    assert output.target == target


def test_unreachable_output_retries_then_fails_with_a_reason() -> None:
    port = free_port()  # nothing listens there
    changes: list[tuple[str, OutputState, str]] = []
    outputs = StreamOutputs(
        [RtmpOutput(f"rtmp://127.0.0.1:{port}/live", "secret-key-0042", "yt")],
        on_state=lambda output_id, status: changes.append((output_id, status.state, status.reason)),
        retries=2,
        backoff=0.01,
    )
    try:
        for index in range(50):
            outputs.push_video(synthetic_video(index))
            if outputs.status()["yt"]["state"] == "failed":
                break
            asyncio.run(asyncio.sleep(0.04))
    finally:
        outputs.close()
    states = [state for _, state, _ in changes]
    assert states == [OutputState.STARTING, OutputState.STARTING, OutputState.FAILED]
    reason = changes[-1][2]
    assert (
        reason == f"could not connect to rtmp://127.0.0.1:{port}/live/****0042: Connection refused"
    )
    assert "retrying (1/2)" in changes[0][2]
    assert all("secret-key" not in text for _, _, text in changes)


def test_hls_output_goes_live_then_stops_with_an_end_of_stream(tmp_path: Path) -> None:
    changes: list[OutputState] = []
    outputs = StreamOutputs(
        [HlsOutput(tmp_path / "hls")], on_state=lambda _, status: changes.append(status.state)
    )
    for index in range(25):
        outputs.push_video(synthetic_video(index))
        outputs.push_audio(synthetic_audio(2 * index))
        outputs.push_audio(synthetic_audio(2 * index + 1))
    outputs.close()
    assert changes == [OutputState.LIVE, OutputState.STOPPED]
    assert outputs.status() == {"hls": {"state": "stopped", "reason": ""}}
    assert "#EXT-X-ENDLIST" in (tmp_path / "hls" / "index.m3u8").read_text()


def test_job_outputs_from_dispatch_metadata(tmp_path: Path) -> None:
    job = {
        "outputs": [
            {"id": "yt", "type": "rtmp", "url": "rtmp://a.example/live2", "key": "k"},
            {"id": "watch", "type": "hls", "directory": str(tmp_path)},
        ]
    }
    assert specs_from_job(job) == [
        RtmpOutput("rtmp://a.example/live2", "k", "yt"),
        HlsOutput(tmp_path, "watch"),
    ]
    with pytest.raises(ValueError, match="unknown output type 'srt'"):
        specs_from_job({"outputs": [{"id": "x", "type": "srt"}]})


class RecordingReporter:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []

    async def send(self, kind: str, data: dict) -> None:
        self.events.append((kind, data))


def test_stream_job_reports_each_output_state(tmp_path: Path) -> None:
    """The thin job function: frames from an async source, state changes to the reporter."""
    job = {
        "outputs": [
            {"id": "dead", "type": "rtmp", "url": f"rtmp://127.0.0.1:{free_port()}/live"},
            {"id": "watch", "type": "hls", "directory": str(tmp_path / "hls")},
        ]
    }

    async def source():
        for index in range(50):
            yield synthetic_video(index)
            yield synthetic_audio(2 * index)
            yield synthetic_audio(2 * index + 1)
            await asyncio.sleep(0.04)

    reporter = RecordingReporter()
    final = asyncio.run(stream_out(job, reporter, source()))
    assert final["watch"] == {"state": "stopped", "reason": ""}
    # Still retrying when the stream ended: stopped, and the reason says it never got through.
    assert final["dead"]["state"] == "stopped"
    assert "Connection refused; retrying" in final["dead"]["reason"]
    reported = [(data["output_id"], data["state"]) for _, data in reporter.events]
    assert ("watch", "live") in reported
    assert ("watch", "stopped") in reported
    assert ("dead", "starting") in reported
    assert {kind for kind, _ in reporter.events} == {"stream_output"}


def test_a_destination_that_never_answers_fails_after_the_timeout() -> None:
    """It accepts the connection (the kernel does) but says nothing: no thread stays stuck."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"rtmp://127.0.0.1:{silent.getsockname()[1]}/live"
        outputs = StreamOutputs([RtmpOutput(url, "quiet-key-8888", "x")], retries=0, timeout=1)
        deadline = time.monotonic() + 10
        while outputs.status()["x"]["state"] != "failed" and time.monotonic() < deadline:
            time.sleep(0.05)
        status = outputs.status()["x"]
        outputs.close()
    assert status == {
        "state": "failed",
        "reason": f"could not connect to {url}/****8888: no answer for 1 s",
    }
