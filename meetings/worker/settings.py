"""Worker settings, read from the environment once per process."""

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

STT_BACKENDS = ("pocketsphinx", "openai")


@dataclass(frozen=True)
class WorkerSettings:
    """Everything the worker reads from its environment."""

    livekit_url: str  # ws(s):// of livekit-server
    api_key: str
    api_secret: str  # also signs the events sent to the app
    app_url: str  # events go to {app_url}/worker/events
    recordings_dir: Path
    # Stream out's HLS files, <streams_dir>/<job_id>/; the app serves them to the watch page.
    streams_dir: Path = Path("instance/streams")
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_endpoint: str = ""
    s3_path_style: bool = False
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_prefix: str = "recordings/"
    # Job kinds this process serves (module names in jobs.JOB_MODULES); empty = all.
    job_kinds: tuple[str, ...] = ()
    # Jobs of all kinds at once in this process; the request handler refuses beyond it.
    max_jobs: int = 2
    # Budget for jobs to finish their files after SIGTERM before they are killed.
    drain_seconds: float = 30.0
    # Warm job processes kept ready per job kind.
    idle_processes: int = 1
    health_host: str = "127.0.0.1"  # agents' health endpoint (GET / answers "OK")
    health_port: int = 0  # 0 picks a free port
    # Live captions' speech-to-text: "pocketsphinx" (on the box, English) or "openai" (any
    # OpenAI-compatible transcription server at stt_url, e.g. a self-hosted Whisper).
    stt: str = "pocketsphinx"
    stt_url: str = ""
    stt_api_key: str = field(default="", repr=False)  # never in logs
    stt_model: str = "whisper-1"  # the name most OpenAI-compatible servers answer to
    # Where stream-in jobs listen for encoders (each on the port its dispatch names).
    ingest_bind: str = "0.0.0.0"  # noqa: S104 - encoders connect from other machines

    @property
    def events_url(self) -> str:
        return self.app_url.rstrip("/") + "/worker/events"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "WorkerSettings":
        """Raises: ValueError naming the first missing or malformed variable."""
        # The app's own settings work as they are: its LIVEKIT_URL (http) and PUBLIC_URL.
        env = {**env, "MEETINGS_APP_URL": env.get("MEETINGS_APP_URL") or env.get("PUBLIC_URL", "")}
        missing = [
            name
            for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "MEETINGS_APP_URL")
            if not env.get(name)
        ]
        if missing:
            raise ValueError(f"the media worker needs {', '.join(missing)} in its environment")
        livekit_url = _websocket_url(env["LIVEKIT_URL"])
        kinds = tuple(
            k.strip() for k in env.get("MEETINGS_WORKER_JOBS", "").split(",") if k.strip()
        )
        stt = env.get("STT", "pocketsphinx").strip().lower() or "pocketsphinx"
        if stt not in STT_BACKENDS:
            raise ValueError(f"STT must be one of {', '.join(STT_BACKENDS)}, not {stt!r}")
        if stt == "openai" and not env.get("STT_URL"):
            raise ValueError("STT=openai needs STT_URL (the server's base URL, e.g. .../v1)")
        return cls(
            livekit_url=livekit_url,
            api_key=env["LIVEKIT_API_KEY"],
            api_secret=env["LIVEKIT_API_SECRET"],
            app_url=env["MEETINGS_APP_URL"],
            recordings_dir=_recordings_dir(env),
            streams_dir=Path(
                env.get("STREAMS_DIR") or Path(env.get("INSTANCE_DIR") or "instance") / "streams"
            ).absolute(),
            s3_bucket=env.get("RECORDINGS_S3_BUCKET", ""),
            s3_region=env.get("RECORDINGS_S3_REGION", "us-east-1"),
            s3_endpoint=env.get("RECORDINGS_S3_ENDPOINT", ""),
            s3_path_style=env.get("RECORDINGS_S3_PATH_STYLE", "false").lower() == "true",
            s3_access_key=env.get("RECORDINGS_S3_ACCESS_KEY", ""),
            s3_secret_key=env.get("RECORDINGS_S3_SECRET_KEY", ""),
            s3_prefix=env.get("RECORDINGS_S3_PREFIX", "recordings/"),
            job_kinds=kinds,
            # A 720p recording takes about half a core to most of one (make bench: recording).
            max_jobs=_int_at_least(env, "MEETINGS_WORKER_MAX_JOBS", os.cpu_count() or 1, 1),
            drain_seconds=float(env.get("MEETINGS_WORKER_DRAIN_SECONDS", "30")),
            idle_processes=_int_at_least(env, "MEETINGS_WORKER_IDLE_PROCESSES", 1, 0),
            health_host=env.get("MEETINGS_WORKER_HEALTH_HOST", "127.0.0.1"),
            health_port=int(env.get("MEETINGS_WORKER_HEALTH_PORT", "0")),
            stt=stt,
            stt_url=env.get("STT_URL", ""),
            stt_api_key=env.get("STT_API_KEY", ""),
            stt_model=env.get("STT_MODEL", "") or "whisper-1",
            ingest_bind=env.get("MEETINGS_INGEST_BIND", "") or "0.0.0.0",  # noqa: S104
        )


def _recordings_dir(env: Mapping[str, str]) -> Path:
    """The app's RECORDINGS_DIR, with the app's default (instance/recordings)."""
    default = Path(env.get("INSTANCE_DIR") or "instance") / "recordings"
    return Path(env.get("RECORDINGS_DIR") or default).absolute()


def _websocket_url(url: str) -> str:
    """ws(s):// as given, or the ws(s):// of an http(s):// URL (the app's LIVEKIT_URL).

    Raises: ValueError for any other scheme.
    """
    for plain, socket in (("http://", "ws://"), ("https://", "wss://")):
        if url.startswith(plain):
            return socket + url.removeprefix(plain)
    if not url.startswith(("ws://", "wss://")):
        raise ValueError("LIVEKIT_URL must be a ws://, wss://, http:// or https:// URL")
    return url


def _int_at_least(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    value = int(env.get(name, default))
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}")
    return value


@functools.cache
def settings() -> WorkerSettings:
    """The settings of this process (job processes inherit the environment)."""
    return WorkerSettings.from_env(os.environ)
