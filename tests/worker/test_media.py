"""The recorder's parts without LiveKit: the mixer, the file writer and storage."""

import errno
import os
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from meetings.worker import storage
from meetings.worker.compositor import Compositor
from meetings.worker.encoder import MediaWriter, faststart
from meetings.worker.layout import TileSource
from meetings.worker.mixer import AudioMixer
from meetings.worker.settings import WorkerSettings
from tests.worker import media

CHUNK = 1920


def test_mixer_sums_clips_and_is_silent_without_sources():
    mixer = AudioMixer(chunk=CHUNK, prebuffer=0)
    assert not mixer.pull().any()
    mixer.push("a", np.full(CHUNK, 20_000, np.int16))
    mixer.push("b", np.full(CHUNK, 20_000, np.int16))
    mixer.push("c", np.full(CHUNK, -5_000, np.int16))
    assert (mixer.pull() == 32_767).all()
    mixer.push("c", np.full(CHUNK, -5_000, np.int16))
    assert (mixer.pull() == -5_000).all()  # a and b ran dry: only c is heard


def test_mixer_waits_for_a_little_audio_and_keeps_latency_bounded():
    mixer = AudioMixer(chunk=CHUNK, prebuffer=480, max_backlog_chunks=2)
    mixer.push("a", np.ones(CHUNK, np.int16))
    assert not mixer.pull().any()  # not primed yet: no half-filled chunk
    mixer.push("a", np.ones(480, np.int16))
    assert mixer.pull().all()
    mixer.push("a", np.arange(10 * CHUNK, dtype=np.int16))  # a burst after a stall
    assert mixer.dropped_samples == 10 * CHUNK + 480 - 2 * CHUNK
    assert mixer.pull()[0] == 8 * CHUNK  # the newest audio plays, the stale part is gone
    mixer.reset()
    assert not mixer.pull().any()


def write_ticks(writer: MediaWriter, ticks: int, compositor: Compositor | None = None) -> None:
    tone = (np.sin(np.arange(CHUNK) / 10) * 8000).astype(np.int16)
    for n in range(ticks):
        video = None
        if compositor is not None:
            people = [TileSource("a", "Ann", None, seq=n // 10)]

            def video(people=people) -> av.VideoFrame:
                compositor.compose(people)
                return compositor.frame()

        while writer.backlog > 10:  # real time is slower than this loop: keep it fed, not full
            time.sleep(0.01)
        writer.submit(video, tone)


def test_fragmented_while_recording_then_plain_mp4_with_the_index_first(tmp_path: Path):
    path = tmp_path / "rec" / "a.mp4"
    writer = MediaWriter(path, size=(1280, 720))
    writer.open()
    write_ticks(writer, 150, Compositor())  # 6 s
    writer.close(timeout=60)
    assert writer.error is None
    boxes = media.top_level_boxes(path)
    assert "moof" in boxes  # fragmented: playable up to the last fragment if killed
    faststart(path)
    boxes = media.top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat") and "moof" not in boxes
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 1280, 720)
        assert audio.codec_context.name == "aac" and audio.rate == 48_000
        assert video.guessed_rate == Fraction(25)
        assert float(video.duration * video.time_base) == pytest.approx(6.0, abs=0.05)
        assert float(audio.duration * audio.time_base) == pytest.approx(6.0, abs=0.05)
    assert not list(path.parent.glob("*.tmp"))


def test_audio_only_is_an_m4a_with_aac(tmp_path: Path):
    path = tmp_path / "a.m4a"
    writer = MediaWriter(path, size=None)
    writer.open()
    write_ticks(writer, 100)
    writer.close(timeout=30)
    faststart(path)
    with av.open(str(path)) as container:
        assert [s.type for s in container.streams] == ["audio"]
        assert media.last_timestamp(path) == pytest.approx(4.0, abs=0.05)


def test_a_full_disk_is_reported_as_an_error(tmp_path: Path):
    path = tmp_path / "full.mp4"
    os.symlink("/dev/full", path)  # every write fails with ENOSPC
    writer = MediaWriter(path, size=(1280, 720))
    try:
        writer.open()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
        return
    write_ticks(writer, 100, Compositor())
    writer.close(timeout=30)
    assert isinstance(writer.error, OSError) and writer.error.errno == errno.ENOSPC


@pytest.mark.parametrize(
    "name", ["", "/etc/passwd", "../up.mp4", "a/../../b.mp4", "a\\b.mp4", ".hidden.mp4"]
)
def test_file_names_cannot_leave_the_recordings_directory(name: str):
    with pytest.raises(ValueError):
        storage.local_path(Path("/srv/recordings"), name)


def test_a_relative_name_lands_under_the_directory():
    assert storage.local_path(Path("/srv/r"), "2026/12/abc.mp4") == Path("/srv/r/2026/12/abc.mp4")


def test_upload_goes_to_the_prefixed_key_in_parts(s3_bucket, tmp_path: Path):
    endpoint, client = s3_bucket
    path = tmp_path / "big.mp4"
    path.write_bytes(os.urandom(storage.PART_SIZE + 1024))  # two parts
    settings = WorkerSettings(
        livekit_url="ws://x",
        api_key="k",
        api_secret="s",
        app_url="http://x",
        recordings_dir=tmp_path,
        s3_bucket="recs",
        s3_endpoint=endpoint,
        s3_path_style=True,
        s3_access_key="k",
        s3_secret_key="s",
        s3_prefix="recordings/",
    )
    key = storage.upload(settings, path, "2026/12/big.mp4")
    assert key == "recordings/2026/12/big.mp4"
    head = client.head_object(Bucket="recs", Key=key)
    assert head["ContentLength"] == path.stat().st_size
    assert head["ETag"].strip('"').endswith("-2")  # a multipart upload's ETag counts its parts
