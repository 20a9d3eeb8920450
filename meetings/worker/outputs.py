"""Stream out's outputs: one composite encoded once (H.264 + AAC), its packets copied to every
RTMP(S) destination and to HLS files for the watch page.

Threads do the work, never the event loop: one encoder thread, and per output one thread with
a bounded packet queue. An output that cannot connect, drops, or falls behind fails alone.
Every container gets the encoder's codec parameters (`add_stream_from_template`) and copies of
its packets; nothing is encoded twice.

RTMP goes through our own socket client (`RtmpPublisher`), fed by PyAV's FLV muxer, and not
through FFmpeg's rtmp:// protocol: PyAV opens an output (TCP connect, RTMP handshake, publish)
and writes its trailer while holding the GIL, with no timeout and no interrupt callback for
outputs. A destination that accepts TCP and never answers froze the whole worker process,
event loop included (checked with PyAV 18.1 here). A Python socket has timeouts, releases the
GIL while it waits, and another thread can shut it down. It also keeps the stream key out of
FFmpeg's own log lines.

The stream key is the last path segment of an RTMP URL. It is never logged nor reported: any
URL shown is `mask_url(url)`, and reasons are scrubbed of the key.
"""

import contextlib
import logging
import os
import queue
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import av
import av.codec.context
import numpy as np

from meetings.worker.rtmp_server import (
    AUDIO,
    CHUNK,
    COMMAND_AMF0,
    DATA_AMF0,
    HANDSHAKE_SIZE,
    MAX_MESSAGE,
    SET_CHUNK_SIZE,
    USER_CONTROL,
    VIDEO,
    ChunkParser,
    RtmpError,
    RtmpMessage,
    amf0_encode,
    command_values,
    encode_message,
)

logger = logging.getLogger("meetings.worker.outputs")

WIDTH, HEIGHT, FPS = 1280, 720, 25
KEYFRAME_SECONDS = 2  # what YouTube and Twitch ask for; also the HLS segment length
VIDEO_BITRATE = 2_500_000
AUDIO_BITRATE = 128_000
SAMPLE_RATE = 48_000
HLS_LIST_SIZE = 6
QUEUE_SECONDS = 3.0  # of packets an output may hold; more and it is falling behind
NETWORK_TIMEOUT = 10.0  # connect, each answer, and a send stuck this long
# Linux grows a send buffer to 4 MB: 13 s of stream hidden in the kernel, where the queue's
# "falling behind" check cannot see it. 512 kB still carries 2.5 Mb/s over a 1.5 s round trip.
SEND_BUFFER = 512 * 1024
# Ticks waiting for the encoder beyond which video frames are skipped (audio never is).
MAX_BACKLOG = 25

Status = Literal["live", "failed", "ended"]
StateCallback = Callable[[str, Status, str], None]  # output_id, status, reason
VideoWork = Callable[[], av.VideoFrame]


# ------------------------------------------------------------------------------ what is shown
def stream_key(url: str) -> str:
    """The last path segment of an RTMP URL: the stream key."""
    return urlsplit(url).path.rstrip("/").rpartition("/")[2]


def mask_url(url: str) -> str:
    """`rtmp://host/app/****<last 4 of the key>`: the only form a URL is shown in."""
    parts = urlsplit(url)
    app = parts.path.strip("/").rpartition("/")[0]
    key = stream_key(url)
    host = parts.hostname or "?"
    if parts.port:
        host = f"{host}:{parts.port}"
    shown = key[-4:] if len(key) >= 8 else ""  # a short key: its last 4 would be most of it
    return f"{parts.scheme}://{host}/{app}/****{shown}"


def scrub(text: str, *secrets: str) -> str:
    """`text` with each secret replaced by stars and its last four characters."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "****" + (secret[-4:] if len(secret) >= 8 else ""))
    return text


@dataclass(frozen=True)
class OutputSpec:
    """One output of the dispatch metadata: an RTMP(S) destination or the HLS directory."""

    output_id: str
    kind: Literal["rtmp", "hls"]
    url: str = field(default="", repr=False)  # rtmp: carries the key
    directory: Path | None = None  # hls

    @property
    def label(self) -> str:
        return mask_url(self.url) if self.kind == "rtmp" else "HLS"

    @property
    def secret(self) -> str:
        return stream_key(self.url) if self.kind == "rtmp" else ""


def parse_outputs(items: Any, hls_directory: Path) -> list[OutputSpec]:
    """The `outputs` of the dispatch metadata.

    Raises: ValueError naming the first bad output (never with its URL).
    """
    if not isinstance(items, list) or not items:
        raise ValueError("outputs must be a non-empty list")
    specs: list[OutputSpec] = []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"outputs[{n}] is not an object")
        output_id, kind = item.get("output_id"), item.get("kind")
        if not isinstance(output_id, str) or not output_id:
            raise ValueError(f"outputs[{n}] has no output_id")
        if output_id in {s.output_id for s in specs}:
            raise ValueError(f"output_id {output_id!r} is repeated")
        if kind == "hls":
            if any(s.kind == "hls" for s in specs):
                raise ValueError("more than one hls output")
            specs.append(OutputSpec(output_id, "hls", directory=hls_directory))
        elif kind == "rtmp":
            url = item.get("url")
            parts = urlsplit(url) if isinstance(url, str) else None
            if (
                parts is None
                or parts.scheme not in ("rtmp", "rtmps")
                or not parts.hostname
                or "/" not in parts.path.strip("/")
                or not stream_key(url)
            ):
                raise ValueError(f"output {output_id!r}: url must be rtmp(s)://host/app/key")
            specs.append(OutputSpec(output_id, "rtmp", url=url))
        else:
            raise ValueError(f"output {output_id!r}: unknown kind {kind!r}")
    return specs


# ------------------------------------------------------------------------------------ encoder
@dataclass(frozen=True)
class EncodedPacket:
    """An encoded packet as plain data: each output thread makes its own av.Packet of it."""

    video: bool
    data: bytes
    pts: int
    dts: int
    time_base: Fraction
    keyframe: bool

    @property
    def seconds(self) -> float:
        return float(self.pts * self.time_base)


class Encoder:
    """libx264 + AAC, opened as streams of a "null" container: the templates every output
    copies its codec parameters (and extradata) from. Used from one thread."""

    def __init__(self) -> None:
        self.container = av.open("templates", "w", format="null")
        gop = FPS * KEYFRAME_SECONDS
        self.video = self.container.add_stream("libx264", rate=FPS)
        ctx = self.video.codec_context
        ctx.width, ctx.height, ctx.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        ctx.time_base = Fraction(1, FPS)
        ctx.bit_rate, ctx.gop_size = VIDEO_BITRATE, gop
        # FLV wants SPS/PPS out of band; MPEG-TS puts them back in front of keyframes.
        ctx.flags |= av.codec.context.Flags.global_header
        kbps = VIDEO_BITRATE // 1000
        ctx.options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "maxrate": f"{kbps}k",
            "bufsize": f"{2 * kbps}k",
            # A keyframe exactly every 2 s: services and the HLS segmenter cut there.
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0",
        }
        self.audio = self.container.add_stream("aac", rate=SAMPLE_RATE)
        actx = self.audio.codec_context
        actx.layout, actx.bit_rate = "stereo", AUDIO_BITRATE
        actx.time_base = Fraction(1, SAMPLE_RATE)
        actx.flags |= av.codec.context.Flags.global_header
        self.container.start_encoding()  # opens both encoders: the templates are complete
        self.resampler = av.AudioResampler(
            format="fltp", layout="stereo", rate=SAMPLE_RATE, frame_size=actx.frame_size
        )
        self.frames = 0
        self.samples = 0

    def encode(self, video: av.VideoFrame | None, audio: np.ndarray) -> list[EncodedPacket]:
        """One tick: a frame (None: skipped, the next one fills the gap) and s16 mono audio."""
        packets: list[av.Packet] = []
        if video is not None:
            video.pts, video.time_base = self.frames, Fraction(1, FPS)
            packets += self.video.encode(video)
        self.frames += 1
        frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = SAMPLE_RATE, self.samples
        frame.time_base = Fraction(1, SAMPLE_RATE)
        self.samples += len(audio)
        for chunk in self.resampler.resample(frame):
            packets += self.audio.encode(chunk)
        return self._plain(packets)

    def flush(self) -> list[EncodedPacket]:
        packets = list(self.video.encode(None))
        for chunk in self.resampler.resample(None):
            packets += self.audio.encode(chunk)
        packets += self.audio.encode(None)
        return self._plain(packets)

    def _plain(self, packets: list[av.Packet]) -> list[EncodedPacket]:
        return [
            EncodedPacket(
                p.stream is self.video, bytes(p), p.pts, p.dts, p.time_base, p.is_keyframe
            )
            for p in packets
            if p.pts is not None
        ]

    def close(self) -> None:
        self.container.close()


# ------------------------------------------------------------------------------- RTMP client
class RtmpPublishError(Exception):
    """The destination refused or dropped the stream."""


class RtmpRefused(RtmpPublishError):
    """The destination said no to the publish (a wrong key, an unknown app)."""


class RtmpPublisher:
    """Blocking RTMP(S) publish client for one output thread; see the module docstring."""

    def __init__(self, url: str, timeout: float | None = None) -> None:
        parts = urlsplit(url)
        self.tls = parts.scheme == "rtmps"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.tls else 1935)
        self.app, _, self.stream_name = parts.path.strip("/").rpartition("/")
        self.tc_url = f"{parts.scheme}://{parts.netloc}/{self.app}"
        self.timeout = NETWORK_TIMEOUT if timeout is None else timeout
        self.stream_id = 0
        self._parser = ChunkParser(MAX_MESSAGE)
        self._sock: socket.socket | None = None
        self._txn = 1

    def connect(self) -> None:
        """Handshake, connect, createStream, publish. Raises: OSError, RtmpPublishError."""
        try:
            self._connect()
        except BaseException:
            self.abort()
            self._close_socket()
            raise

    def _connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        self._sock = sock
        if self.tls:
            context = ssl.create_default_context()
            sock = self._sock = context.wrap_socket(sock, server_hostname=self.host)
        stamp = int(time.monotonic() * 1000) & 0xFFFFFFFF
        sock.sendall(b"\x03" + struct.pack(">II", stamp, 0) + os.urandom(HANDSHAKE_SIZE - 8))
        s0s1s2 = self._recv_exactly(1 + 2 * HANDSHAKE_SIZE)
        sock.sendall(s0s1s2[1 : 1 + HANDSHAKE_SIZE])  # C2 echoes S1
        self._send(2, SET_CHUNK_SIZE, struct.pack(">I", CHUNK))
        self._call(
            "connect",
            {
                "app": self.app,
                "type": "nonprivate",
                "flashVer": "FMLE/3.0 (compatible; meetings)",
                "tcUrl": self.tc_url,
            },
        )
        self._command("releaseStream", self._next_txn(), None, self.stream_name)
        self._command("FCPublish", self._next_txn(), None, self.stream_name)
        result = self._call("createStream", None)
        self.stream_id = int(result[3]) if len(result) > 3 and result[3] else 1
        self._command("publish", 0, None, self.stream_name, "live", stream_id=self.stream_id)
        self._wait_publish_start()

    def send_media(self, type_id: int, timestamp: int, payload: bytes) -> None:
        csid = {AUDIO: 4, VIDEO: 6}.get(type_id, 5)
        self._send(csid, type_id, payload, self.stream_id, timestamp)
        self._poll()

    def abort(self) -> None:
        """From another thread: make a blocked send or receive fail now."""
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Unpublish (best effort) and close."""
        if self._sock is None:
            return
        with contextlib.suppress(OSError, RtmpPublishError):
            self._command("FCUnpublish", self._next_txn(), None, self.stream_name)
            self._command("deleteStream", self._next_txn(), None, self.stream_id)
        self._close_socket()

    def _close_socket(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    # -- helpers
    def _send(
        self, csid: int, type_id: int, payload: bytes, stream_id: int = 0, timestamp: int = 0
    ) -> None:
        if self._sock is None:
            raise RtmpPublishError("not connected")
        message = RtmpMessage(type_id, timestamp, stream_id, payload)
        self._sock.sendall(encode_message(csid, message, CHUNK))

    def _command(self, *values: Any, stream_id: int = 0) -> None:
        self._send(3, COMMAND_AMF0, amf0_encode(*values), stream_id)

    def _next_txn(self) -> int:
        self._txn += 1
        return self._txn

    def _recv(self, size: int = 65536) -> bytes:
        if self._sock is None:
            raise RtmpPublishError("not connected")
        chunk = self._sock.recv(size)
        if not chunk:
            raise RtmpPublishError("the server closed the connection")
        return chunk

    def _recv_exactly(self, size: int) -> bytes:
        data = bytearray()
        while len(data) < size:
            data += self._recv(size - len(data))
        return bytes(data)

    def _take(self, data: bytes) -> list[RtmpMessage]:
        try:
            messages = self._parser.feed(data)
        except RtmpError as exc:
            raise RtmpPublishError(f"the server broke the protocol: {exc}") from exc
        out = []
        for message in messages:
            if message.type_id == USER_CONTROL and message.payload[:2] == b"\x00\x06":
                self._send(2, USER_CONTROL, b"\x00\x07" + message.payload[2:6])  # ping -> pong
            elif message.type_id == COMMAND_AMF0:
                out.append(message)
        return out

    def _messages(self) -> Any:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            yield from self._take(self._recv())
        raise TimeoutError("no answer from the server")

    def _call(self, name: str, *args: Any) -> list[Any]:
        txn = self._next_txn()
        self._command(name, txn, *args)
        for message in self._messages():
            values = command_values(message)
            if len(values) >= 2 and values[1] == txn and values[0] in ("_result", "_error"):
                if values[0] == "_error":
                    raise RtmpRefused(f"{name} refused: {_description(values)}")
                return values
        raise AssertionError("unreachable")

    def _wait_publish_start(self) -> None:
        for message in self._messages():
            values = command_values(message)
            if values and values[0] == "onStatus":
                info = values[3] if len(values) > 3 and isinstance(values[3], dict) else {}
                if info.get("code") == "NetStream.Publish.Start":
                    return
                if info.get("level") == "error":
                    raise RtmpRefused(f"publish refused: {_description(values)}")

    def _poll(self) -> None:
        # What the server sent meanwhile (pings, an error), read without waiting for it.
        sock = self._sock
        assert sock is not None
        while select.select([sock], [], [], 0)[0] or (
            isinstance(sock, ssl.SSLSocket) and sock.pending()
        ):
            for message in self._take(self._recv()):
                values = command_values(message)
                if values and values[0] == "onStatus" and "error" in str(values[3:]):
                    raise RtmpPublishError(f"the server stopped the stream: {_description(values)}")


def _description(values: list[Any]) -> str:
    for value in values[2:]:
        if isinstance(value, dict):
            return str(value.get("description") or value.get("code") or "no reason given")
    return "no reason given"


class FlvToRtmp:
    """A write-only file for PyAV's FLV muxer: each FLV tag leaves as one RTMP message."""

    def __init__(self, publisher: RtmpPublisher) -> None:
        self.publisher = publisher
        self._buffer = bytearray()
        self._skip = 13  # FLV header (9 bytes) + PreviousTagSize0

    def write(self, data: bytes) -> int:
        self._buffer += data
        while True:
            if self._skip:
                dropped = min(self._skip, len(self._buffer))
                del self._buffer[:dropped]
                self._skip -= dropped
                if self._skip:
                    break
            if len(self._buffer) < 11:
                break
            size = int.from_bytes(self._buffer[1:4], "big")
            if len(self._buffer) < 11 + size:
                break
            tag_type = self._buffer[0] & 0x1F
            stamp = int.from_bytes(self._buffer[4:7], "big") | self._buffer[7] << 24
            body = bytes(self._buffer[11 : 11 + size])
            del self._buffer[: 11 + size]
            self._skip = 4  # PreviousTagSize
            if tag_type == DATA_AMF0:
                # What a server expects in place of the FLV file's onMetaData tag.
                body = amf0_encode("@setDataFrame") + body
            self.publisher.send_media(tag_type, stamp, body)
        return len(data)

    def writable(self) -> bool:
        return True


# ------------------------------------------------------------------------------------ outputs
class Output(threading.Thread):
    """One output: open its container, mux copies of the packets, end it or fail alone.

    States it reports: live (RTMP: publish accepted; HLS: the first segment on disk), then
    failed (with a reason) or ended. Reported once each, from this thread.
    """

    def __init__(self, spec: OutputSpec, encoder: Encoder, notify: StateCallback) -> None:
        super().__init__(name=f"output-{spec.output_id}", daemon=True)
        self.spec, self.encoder, self._notify = spec, encoder, notify
        rate = FPS + SAMPLE_RATE // 1024 + 1  # packets a second: video + AAC frames
        self.queue: queue.Queue[EncodedPacket | None] = queue.Queue(int(QUEUE_SECONDS * rate))
        self.status: Status | None = None
        self.reason = ""
        self._failed = threading.Event()
        self._lock = threading.Lock()
        self._publisher: RtmpPublisher | None = None

    @property
    def failed(self) -> bool:
        return self._failed.is_set()

    def offer(self, packet: EncodedPacket | None) -> None:
        """Queue a packet (None: the end); never blocks. A live output that cannot keep up
        fails; one still connecting keeps only the newest packets."""
        if self.failed:
            return
        while True:
            try:
                self.queue.put_nowait(packet)
                return
            except queue.Full:
                if self.status == "live":
                    self.fail(f"the connection is too slow: {QUEUE_SECONDS:g} s of stream waiting")
                    return
            with contextlib.suppress(queue.Empty):
                self.queue.get_nowait()

    def fail(self, reason: str) -> None:
        """Fail now, from any thread: a send blocked on a stalled destination returns."""
        if not self._set("failed", reason):
            return
        publisher = self._publisher
        if publisher is not None:
            publisher.abort()
        with contextlib.suppress(queue.Full):
            self.queue.put_nowait(None)  # wakes the thread if it waits for a packet

    def run(self) -> None:
        try:
            container = self._open()
        except Exception as exc:
            # The server's own words, for operators (people get the reason below).
            detail = scrub(f"{type(exc).__name__}: {exc}", self.spec.secret)
            logger.info(
                "output %s (%s) did not open: %s", self.spec.output_id, self.spec.label, detail
            )
            self.fail(self._describe(exc, connected=False))
            self._close_publisher()
            return
        try:
            self._pump(container)
        except Exception as exc:
            detail = scrub(f"{type(exc).__name__}: {exc}", self.spec.secret)
            logger.info("output %s (%s) stopped: %s", self.spec.output_id, self.spec.label, detail)
            self.fail(self._describe(exc, connected=True))
        finally:
            with contextlib.suppress(Exception):
                container.close()  # the FLV trailer, or HLS's last segment and ENDLIST
            self._close_publisher()
        self._set("ended", "")

    def _open(self) -> Any:
        if self.spec.kind == "hls":
            container = self._open_hls()
        else:
            self._publisher = RtmpPublisher(self.spec.url)
            self._publisher.connect()
            container = av.open(
                FlvToRtmp(self._publisher),
                "w",
                format="flv",
                # Not seekable: no duration rewrite at the end; each packet leaves at once.
                options={"flvflags": "no_duration_filesize", "flush_packets": "1"},
            )
        try:
            self._video = container.add_stream_from_template(self.encoder.video)
            self._audio = container.add_stream_from_template(self.encoder.audio)
            container.start_encoding()  # the header, and FLV's codec configuration tags
        except BaseException:
            with contextlib.suppress(Exception):
                container.close()
            raise
        if self.spec.kind == "rtmp":
            self._set("live", "")
        return container

    def _open_hls(self) -> Any:
        directory = self.spec.directory
        assert directory is not None
        directory.mkdir(parents=True, exist_ok=True)
        return av.open(
            str(directory / "index.m3u8"),
            "w",
            format="hls",
            options={
                "hls_time": str(KEYFRAME_SECONDS),
                "hls_list_size": str(HLS_LIST_SIZE),
                # temp_file: the playlist and segments appear by rename, never half-written.
                "hls_flags": "delete_segments+independent_segments+temp_file",
                "hls_segment_filename": str(directory / "seg_%d.ts"),
            },
        )

    def _pump(self, container: Any) -> None:
        offset: int | None = None  # in 1/1000 s: each output starts at 0 on a keyframe
        playlist = self.spec.directory / "index.m3u8" if self.spec.directory else None
        while (item := self.queue.get()) is not None and not self.failed:
            if offset is None:
                if not (item.video and item.keyframe):
                    continue
                offset = round(item.seconds * 1000)
            shift = round(Fraction(offset, 1000) / item.time_base)
            if item.pts - shift < 0:
                continue
            packet = av.Packet(item.data)
            packet.pts, packet.dts = item.pts - shift, item.dts - shift
            packet.time_base = item.time_base
            packet.is_keyframe = item.keyframe
            packet.stream = self._video if item.video else self._audio
            container.mux(packet)
            if self.status is None and playlist is not None and playlist.exists():
                self._set("live", "")

    def _close_publisher(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            publisher.close()

    def _set(self, status: Status, reason: str) -> bool:
        """Move to `status` unless already failed or ended; report it. True if it moved."""
        reason = scrub(reason, self.spec.secret)
        with self._lock:
            if self.status in ("failed", "ended") or self.status == status:
                return False
            self.status, self.reason = status, reason
            if status == "failed":
                self._failed.set()
        logger.info("output %s (%s): %s %s", self.spec.output_id, self.spec.label, status, reason)
        self._notify(self.spec.output_id, status, reason)
        return True

    def _describe(self, exc: BaseException, connected: bool) -> str:
        if isinstance(exc, RtmpRefused):
            return "the server refused the stream key"
        if self.spec.kind == "hls":
            return f"could not write the HLS files: {exc}"
        if connected:
            return "connection lost"
        parts = urlsplit(self.spec.url)
        where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'rtmps' else 1935)}"
        if isinstance(exc, TimeoutError | socket.timeout):
            detail = f"no answer in {NETWORK_TIMEOUT:.0f} s"
        else:
            detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            detail = detail[:1].lower() + detail[1:]
        return f"could not connect to {where}: {detail}"


@dataclass
class _Tick:
    video: VideoWork | None  # None: skip this frame (the encoder is behind)
    audio: np.ndarray


class StreamOutputs:
    """Encode once, send everywhere: submit() each tick, close() (blocking) at the end."""

    def __init__(self, specs: list[OutputSpec], notify: StateCallback) -> None:
        self.specs = specs
        self.skipped_frames = 0
        self.busy_seconds = 0.0  # composing and encoding: the real-time factor
        self._notify = notify
        self._ticks: queue.Queue[_Tick | None] = queue.Queue()
        self._encoder: Encoder | None = None
        self.outputs: list[Output] = []
        self._thread = threading.Thread(target=self._run, name="stream-encoder", daemon=True)
        self._closed = False

    def open(self) -> None:
        """Open the encoders and start every thread. Raises: av.FFmpegError."""
        self._encoder = Encoder()
        self.outputs = [Output(spec, self._encoder, self._notify) for spec in self.specs]
        for thread in [*self.outputs, self._thread]:
            thread.start()

    def submit(self, video: VideoWork | None, audio: np.ndarray) -> None:
        """Queue one tick; never blocks. A backlog makes it skip video, keeping audio whole."""
        if video is not None and self._ticks.qsize() > MAX_BACKLOG:
            video = None
        self._ticks.put(_Tick(video, audio))

    @property
    def all_failed(self) -> bool:
        return bool(self.outputs) and all(o.failed for o in self.outputs)

    def close(self, timeout: float = 15.0) -> None:
        """Flush the encoder, end every output (bounded: a stuck one is failed), join."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + timeout
        self._ticks.put(None)
        if self._thread.is_alive():
            self._thread.join(max(0.1, deadline - time.monotonic()))
        for output in self.outputs:
            output.join(max(0.1, deadline - time.monotonic()))
            if output.is_alive():
                output.fail("did not finish in time")
                output.join(NETWORK_TIMEOUT)
        if self._encoder is not None and not self._thread.is_alive():
            self._encoder.close()

    def _run(self) -> None:
        encoder = self._encoder
        assert encoder is not None
        while (tick := self._ticks.get()) is not None:
            started = time.perf_counter()
            try:
                frame = tick.video() if tick.video is not None else None
                if tick.video is None:
                    self.skipped_frames += 1
                packets = encoder.encode(frame, tick.audio)
            except Exception:  # a bug here must not stop the stream's clock
                logger.exception("a frame was not encoded")
                packets = []
            self._send(packets)
            self.busy_seconds += time.perf_counter() - started
        try:
            self._send(encoder.flush())
        except Exception:
            logger.exception("flushing the encoder failed")
        for output in self.outputs:
            output.offer(None)

    def _send(self, packets: list[EncodedPacket]) -> None:
        for packet in packets:
            for output in self.outputs:
                output.offer(packet)
