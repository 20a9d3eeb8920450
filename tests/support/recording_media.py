"""Recording files and egress webhooks for the live tiers: an MP4 made with ffmpeg (H.264 and
AAC, like the egress worker writes), and signed deliveries to the live app."""

import shutil
import subprocess
import urllib.request
from pathlib import Path

from tests.support.environment import require
from tests.support.live import LiveStack
from tests.support.webhook_factory import webhook_request


def make_mp4(path: Path, seconds: int = 2) -> Path:
    """A short test-pattern video with a tone; `faststart` so playback can begin at once."""
    ffmpeg = shutil.which("ffmpeg")
    require(ffmpeg is not None, "ffmpeg (Debian package ffmpeg)")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=duration={seconds}:size=320x240:rate=15",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-movflags",
            "+faststart",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path


def deliver(stack: LiveStack, event) -> int:
    """POST one signed webhook to the live app, as livekit-server would; returns the status."""
    config = stack.livekit_config
    body, headers = webhook_request(event, config.api_key, config.api_secret)
    request = urllib.request.Request(
        f"{stack.base_url}/livekit/webhook", data=body.encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        status = response.status
    stack.wait_until_derived()
    return status
