"""Fixtures for the captions job: a real livekit-server, flite speech, and the heavy
resources (Silero VAD, a PocketSphinx decoder) that a worker process loads once."""

import asyncio
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from meetings.livekit_process import (
    DEFAULT_BINARY,
    LiveKitServer,
    LiveKitServerConfig,
    free_port,
    free_udp_port,
    new_api_key,
)
from meetings.worker.captioner import CaptionResources, load_resources
from meetings.worker.stt import SttSettings
from tests.conftest import require
from tests.worker_captions.helpers import Speech, create_room, flite


@dataclass
class LiveKit:
    server: LiveKitServer

    @property
    def url(self) -> str:
        return self.server.config.ws_url

    @property
    def http_url(self) -> str:
        return self.server.config.url

    @property
    def key(self) -> str:
        return self.server.config.api_key

    @property
    def secret(self) -> str:
        return self.server.config.api_secret

    async def new_room(self) -> str:
        """A room created through the API (the server does not auto-create rooms)."""
        name = f"captions-{uuid.uuid4().hex[:8]}"
        await create_room(self.http_url, self.key, self.secret, name)
        return name


@pytest.fixture(scope="session")
def livekit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveKit]:
    require(DEFAULT_BINARY.exists(), "livekit-server")
    key, secret = new_api_key()
    config = LiveKitServerConfig(
        api_key=key,
        api_secret=secret,
        port=free_port(),
        rtc_tcp_port=free_port(),
        rtc_udp_port=free_udp_port(),
    )
    server = LiveKitServer(config, tmp_path_factory.mktemp("livekit-captions")).start()
    try:
        yield LiveKit(server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def rtc_runtime() -> None:
    """The SDK's native runtime starts once per process and stays: it belongs to the session."""
    from livekit import rtc

    async def touch() -> None:
        source = rtc.AudioSource(48_000, 1)
        await source.aclose()

    asyncio.run(touch())


@pytest.fixture(scope="session")
def resources() -> CaptionResources:
    """What prewarm loads: the VAD and one PocketSphinx decoder, shared by every job."""
    return load_resources(SttSettings())


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Speech]:
    require(shutil.which("flite") is not None, "flite (Debian package)")
    directory: Path = tmp_path_factory.mktemp("flite")

    def make(text: str, voice: str = "slt") -> Speech:
        return flite(text, voice, directory)

    return make
