"""The worker's configuration and its reading of dispatch metadata."""

import types
from pathlib import Path

import pytest

from meetings.worker import jobs, recorder
from meetings.worker.recorder import RecordingJob
from meetings.worker.settings import WorkerSettings

ENV = {
    "LIVEKIT_URL": "ws://127.0.0.1:7880",
    "LIVEKIT_API_KEY": "key",
    "LIVEKIT_API_SECRET": "secret",
    "MEETINGS_APP_URL": "http://127.0.0.1:8000/",
}


def test_settings_read_the_environment_with_the_apps_names():
    settings = WorkerSettings.from_env(
        {
            **ENV,
            "RECORDINGS_DIR": "/srv/rec",
            "RECORDINGS_S3_BUCKET": "b",
            "RECORDINGS_S3_PATH_STYLE": "true",
            "MEETINGS_WORKER_JOBS": "recorder",
            "MEETINGS_WORKER_MAX_JOBS": "3",
        }
    )
    assert settings.events_url == "http://127.0.0.1:8000/worker/events"
    assert settings.recordings_dir == Path("/srv/rec")
    assert (settings.s3_bucket, settings.s3_path_style, settings.s3_prefix) == (
        "b",
        True,
        "recordings/",
    )
    assert (settings.job_kinds, settings.max_jobs) == (("recorder",), 3)


@pytest.mark.parametrize("missing", sorted(ENV))
def test_settings_name_what_is_missing(missing):
    with pytest.raises(ValueError, match=missing):
        WorkerSettings.from_env({k: v for k, v in ENV.items() if k != missing})


def test_settings_take_the_apps_own_urls():
    app_env = {k: v for k, v in ENV.items() if k != "MEETINGS_APP_URL"}
    app_env |= {"LIVEKIT_URL": "https://lk.example.org", "PUBLIC_URL": "https://meet.example.org"}
    read = WorkerSettings.from_env(app_env)
    assert read.livekit_url == "wss://lk.example.org"
    assert read.events_url == "https://meet.example.org/worker/events"


def test_settings_refuse_a_url_livekit_cannot_serve():
    with pytest.raises(ValueError, match="ws://"):
        WorkerSettings.from_env({**ENV, "LIVEKIT_URL": "ftp://127.0.0.1:7880"})


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ("", "not JSON"),
        ("{oops", "not JSON"),
        ("[1, 2]", "no job_id"),
        ('{"job_id": ""}', "no job_id"),
        ('{"job_id": 7}', "no job_id"),
        ('{"job_id": "1", "room": "other"}', "names room 'other'"),
    ],
)
def test_unusable_dispatch_metadata_is_refused(metadata, message):
    with pytest.raises(ValueError, match=message):
        jobs.parse_metadata(metadata, "room-1")


def test_usable_metadata_and_identities():
    job = jobs.parse_metadata('{"kind": "record", "job_id": "12", "room": "r"}', "r")
    assert job["job_id"] == "12"
    assert jobs.identity_prefix(recorder) == "recorder-"
    assert jobs.identity_prefix(types.SimpleNamespace(AGENT_NAME="meetings-captions")) == (
        "captions-"
    )
    assert jobs.module_for("meetings-recorder") is recorder
    with pytest.raises(ValueError, match="unknown job kind"):
        jobs.load_kinds(["nope"])


@pytest.mark.parametrize(
    "bad", [{"layout": "mosaic"}, {"storage": "ftp"}, {"audio_only": "yes"}, {}]
)
def test_recording_parameters_are_checked(bad):
    job = {"job_id": "1", "file_name": "a.mp4", **bad}
    if not bad:
        del job["job_id"]
    with pytest.raises((ValueError, KeyError)):
        RecordingJob.parse(job)
