"""An encoder pushing RTMP as OBS would: Debian's ffmpeg with a moving test picture and a
tone, H.264 + AAC in FLV."""

import signal
import subprocess
from pathlib import Path

FFMPEG = Path("/usr/bin/ffmpeg")
TONE_HZ = 440
SAMPLE_RATE = 48000


class Encoder:
    """ffmpeg pushing `testsrc2` (`size`) at 25 fps and a sine tone, H.264 (or `video`) + AAC
    in FLV, at the pace of a live source, for `seconds` or until stopped (SIGTERM: it
    unpublishes, as OBS's Stop does)."""

    def __init__(
        self,
        url: str,
        seconds: float | None = None,
        video: str = "libx264",
        size: str = "1280x720",
    ) -> None:
        command = [str(FFMPEG), "-hide_banner", "-loglevel", "error", "-nostdin", "-re"]
        command += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25"]
        command += ["-f", "lavfi", "-i", f"sine=frequency={TONE_HZ}:sample_rate={SAMPLE_RATE}"]
        if seconds is not None:
            command += ["-t", str(seconds)]
        command += ["-c:v", video]
        if video == "libx264":
            command += ["-preset", "veryfast", "-tune", "zerolatency"]
        command += ["-g", "25", "-c:a", "aac", "-f", "flv", url]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def wait(self, timeout: float) -> tuple[int, str]:
        """Its exit status and error log, once it has ended by itself."""
        try:
            _, log = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"the encoder still ran after {timeout} s") from None
        return self.process.returncode, log.decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.communicate()  # reaps it and closes its pipe

    def __enter__(self) -> "Encoder":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
