"""Start and stop a local livekit-server: used by `make run` and by the test fixtures.

The server exits 0 even when start-up fails (bad YAML, busy port), so readiness is
judged only by its HTTP port answering 200, never by the exit status.
"""

import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_BINARY = PROJECT_DIR / ".tools" / "bin" / "livekit-server"


class LiveKitStartError(RuntimeError):
    """The server did not become ready; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_api_key() -> tuple[str, str]:
    """A key name and a secret long enough for HMAC-SHA256 (PyJWT warns under 32 bytes)."""
    return f"key{secrets.token_hex(4)}", secrets.token_urlsafe(36)


@dataclass
class LiveKitServerConfig:
    api_key: str
    api_secret: str
    port: int = 7880
    rtc_tcp_port: int = 7881
    rtc_udp_port: int = 7882
    webhook_urls: list[str] = field(default_factory=list)
    empty_timeout: int = 300

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def to_yaml(self) -> str:
        # Hand-written YAML (the server rejects unknown keys, so keep this list exact).
        # auto_create is off: only rooms the app provisions can be joined.
        lines = [
            f"port: {self.port}",
            "bind_addresses: ['127.0.0.1']",
            "rtc:",
            f"  tcp_port: {self.rtc_tcp_port}",
            f"  udp_port: {self.rtc_udp_port}",
            "  use_external_ip: false",
            "  node_ip: 127.0.0.1",
            "  enable_loopback_candidate: true",
            "room:",
            "  auto_create: false",
            f"  empty_timeout: {self.empty_timeout}",
            "keys:",
            f"  {self.api_key}: {self.api_secret}",
            "logging:",
            "  level: warn",
        ]
        if self.webhook_urls:
            lines += ["webhook:", f"  api_key: {self.api_key}", "  urls:"]
            lines += [f"    - {url}" for url in self.webhook_urls]
        return "\n".join(lines) + "\n"


class LiveKitServer:
    """A livekit-server child process with its config file and log."""

    def __init__(self, config: LiveKitServerConfig, workdir: Path, binary: Path = DEFAULT_BINARY):
        self.config = config
        self.workdir = workdir
        self.binary = Path(os.environ.get("LIVEKIT_SERVER_BIN", binary))
        self.log_path = workdir / "livekit-server.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> "LiveKitServer":
        """Raises: LiveKitStartError when the binary is missing or the port never answers."""
        if not self.binary.exists():
            raise LiveKitStartError(
                f"{self.binary} is missing: run `make setup` (needs Go 1.26) "
                "or set LIVEKIT_URL to use an existing server"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        config_path = self.workdir / "livekit.yaml"
        config_path.write_text(self.config.to_yaml())
        config_path.chmod(0o600)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(self.binary), "--config", str(config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LiveKitStartError(f"livekit-server stopped at start-up:\n{self.log_tail()}")
            if _answers_ok(self.config.url):
                return
            time.sleep(0.1)
        self.stop()
        raise LiveKitStartError(f"livekit-server not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _answers_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
