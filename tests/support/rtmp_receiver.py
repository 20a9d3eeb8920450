"""Debian's ffmpeg listening as an RTMP destination (what YouTube or Twitch would be), for the
tests of streaming out, and whether a port is listened on (for both directions)."""

import subprocess
import time
from pathlib import Path

from meetings.livekit_process import free_port
from tests.support.rtmp_encoder import FFMPEG


def listening(port: int) -> bool:
    """Whether something on this machine listens on the TCP port (read from /proc: a probe
    connection would count as a publisher, or as a refused encoder)."""
    needle = f":{port:04X} 00000000:0000 0A"
    return any(needle in Path(table).read_text() for table in ("/proc/net/tcp", "/proc/net/tcp6"))


class RtmpReceiver:
    """`ffmpeg -f flv -listen 1 -i rtmp://127.0.0.1:<port>/live/<key> -c copy <file>.flv`."""

    def __init__(self, directory: Path, key: str) -> None:
        self.port = free_port()
        self.key = key
        self.url = f"rtmp://127.0.0.1:{self.port}/live/{key}"
        self.path = directory / f"received-{self.port}.flv"
        self.log_path = directory / f"receiver-{self.port}.log"
        command = [str(FFMPEG), "-hide_banner", "-nostdin", "-loglevel", "error"]
        command += ["-f", "flv", "-listen", "1", "-i", self.url, "-c", "copy", str(self.path)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.monotonic() + 10
        while not listening(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"the RTMP receiver did not listen: {self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout: float) -> None:
        """Until it ends by itself (the publisher went away)."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the receiver still ran after {timeout} s") from None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
