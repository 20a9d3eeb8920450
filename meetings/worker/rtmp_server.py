"""The RTMP publish server of the stream-in job: an encoder gets in only with the right key.

FFmpeg's own RTMP listen mode (and so PyAV's) decodes whatever is pushed, whatever the stream
name, so it cannot refuse a wrong key. `RtmpServer` speaks the handshake, the chunk stream and
the handful of AMF0 commands a publisher sends (connect, releaseStream, FCPublish,
createStream, publish), asks `authorize` about the application and stream name *before*
answering `publish`, and only then lets audio and video messages through. A refused publisher
is told NetStream.Publish.BadName and disconnected: no media is read, let alone decoded.
Media leaves as `RtmpMessage`s whose payloads are FLV tag bodies; ingest.py decodes them.
"""

import asyncio
import contextlib
import logging
import os
import struct
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("meetings.worker.rtmp_server")

# Message type ids (RTMP spec 5.4 and 7.1).
SET_CHUNK_SIZE, ABORT, ACK, USER_CONTROL, WINDOW_ACK_SIZE, PEER_BANDWIDTH = 1, 2, 3, 4, 5, 6
AUDIO, VIDEO, COMMAND_AMF3, DATA_AMF0, COMMAND_AMF0 = 8, 9, 17, 18, 20
MEDIA_TYPES = frozenset({AUDIO, VIDEO, DATA_AMF0})

HANDSHAKE_SIZE = 1536
# Until the key is accepted a peer is a stranger: small messages and a deadline only.
MAX_MESSAGE_BEFORE_AUTH = 64 * 1024
MAX_MESSAGE = 8 * 1024 * 1024
# Encoders use a handful of chunk streams; each may hold a partial message in memory.
MAX_CHUNK_STREAMS = 32
CHUNK = 4096  # the chunk size this server sends with
WINDOW = 2_500_000
CLOSE_SECONDS = 10.0  # handlers' own clean-up (leaving the room) when the server closes


class RtmpError(Exception):
    """The peer broke the protocol, or went away."""


@dataclass(frozen=True)
class RtmpMessage:
    type_id: int
    timestamp: int  # milliseconds, as sent by the encoder
    stream_id: int
    payload: bytes


@dataclass(frozen=True)
class Decision:
    """What `authorize` answers about a publish request."""

    accepted: bool
    reason: str = ""  # why not; the encoder's log shows it to the host


# Called with the RTMP application and the stream name (the key) the encoder presents.
Authorize = Callable[[str, str], Decision]


# ---------------------------------------------------------------------------------------- AMF0
class _Amf0Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise RtmpError("truncated AMF0 value")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def _string(self, long: bool = False) -> str:
        size = struct.unpack(">I" if long else ">H", self._take(4 if long else 2))[0]
        return self._take(size).decode("utf-8", "replace")

    def _properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        while True:
            key = self._string()
            if key == "" and self.data[self.pos : self.pos + 1] == b"\x09":
                self.pos += 1
                return props
            props[key] = self.value()

    def value(self) -> Any:
        marker = self._take(1)[0]
        if marker == 0:
            return struct.unpack(">d", self._take(8))[0]
        if marker == 1:
            return self._take(1) != b"\x00"
        if marker == 2:
            return self._string()
        if marker == 3:
            return self._properties()
        if marker in (5, 6):  # null, undefined
            return None
        if marker == 8:  # ECMA array: a count we ignore, then properties
            self._take(4)
            return self._properties()
        if marker == 10:
            count = struct.unpack(">I", self._take(4))[0]
            return [self.value() for _ in range(count)]
        if marker == 11:  # date: ms + timezone
            return struct.unpack(">dh", self._take(10))[0]
        if marker == 12:
            return self._string(long=True)
        raise RtmpError(f"unsupported AMF0 marker {marker}")

    def all(self) -> list[Any]:
        values = []
        while self.pos < len(self.data):
            values.append(self.value())
        return values


def amf0_decode(data: bytes) -> list[Any]:
    """Raises: RtmpError for truncated or unsupported values."""
    return _Amf0Reader(data).all()


def amf0_encode(*values: Any) -> bytes:
    out = bytearray()
    for value in values:
        if value is None:
            out += b"\x05"
        elif isinstance(value, bool):
            out += b"\x01" + (b"\x01" if value else b"\x00")
        elif isinstance(value, int | float):
            out += b"\x00" + struct.pack(">d", float(value))
        elif isinstance(value, str):
            raw = value.encode()
            out += b"\x02" + struct.pack(">H", len(raw)) + raw
        elif isinstance(value, dict):
            out += b"\x03"
            for key, item in value.items():
                raw = key.encode()
                out += struct.pack(">H", len(raw)) + raw + amf0_encode(item)
            out += b"\x00\x00\x09"
        else:
            raise TypeError(f"cannot encode {type(value).__name__} as AMF0")
    return bytes(out)


def command_values(message: RtmpMessage) -> list[Any]:
    """The AMF0 values of a command message ([] for anything else)."""
    if message.type_id == COMMAND_AMF0:
        return amf0_decode(message.payload)
    if message.type_id == COMMAND_AMF3:  # AMF3 commands are AMF0 after one marker byte
        return amf0_decode(message.payload[1:])
    return []


# ------------------------------------------------------------------------------- chunk stream
@dataclass
class _ChunkStreamState:
    timestamp: int = 0
    ts_field: int = 0  # the last timestamp field read: absolute (type 0) or a delta
    extended: bool = False
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    partial: bytearray = field(default_factory=bytearray)


class ChunkParser:
    """Reassembles RTMP messages from the interleaved chunk stream; sans I/O (fed bytes)."""

    def __init__(self, max_message: int = MAX_MESSAGE_BEFORE_AUTH) -> None:
        self._buffer = bytearray()
        self._streams: dict[int, _ChunkStreamState] = {}
        self.chunk_size = 128
        self.max_message = max_message
        self.bytes_read = 0

    def feed(self, data: bytes) -> list[RtmpMessage]:
        """The messages `data` completed. Raises: RtmpError for a broken or oversized stream."""
        self._buffer += data
        self.bytes_read += len(data)
        messages: list[RtmpMessage] = []
        pos = 0
        while True:
            parsed = self._parse_chunk(pos)
            if parsed is None:
                break
            pos, message = parsed
            if message is not None:
                messages.append(message)
        del self._buffer[:pos]
        return messages

    def _parse_chunk(self, pos: int) -> tuple[int, RtmpMessage | None] | None:
        """Parse one chunk at `pos`; None (and no state change) while it is incomplete."""
        buf, end = self._buffer, len(self._buffer)
        if pos >= end:
            return None
        fmt, csid, p = buf[pos] >> 6, buf[pos] & 0x3F, pos + 1
        if csid == 0:  # one more byte of id
            if p + 1 > end:
                return None
            csid, p = 64 + buf[p], p + 1
        elif csid == 1:  # two more bytes, little-endian
            if p + 2 > end:
                return None
            csid, p = 64 + buf[p] + buf[p + 1] * 256, p + 2
        state = self._streams.get(csid)
        if state is None and fmt != 0:
            raise RtmpError(f"chunk stream {csid} starts without a full header")
        header_size = (11, 7, 3, 0)[fmt]
        if p + header_size > end:
            return None
        header, p = bytes(buf[p : p + header_size]), p + header_size
        ts_field = int.from_bytes(header[0:3], "big") if fmt <= 2 else 0
        extended = ts_field == 0xFFFFFF if fmt <= 2 else bool(state and state.extended)
        if extended:
            if p + 4 > end:
                return None
            if fmt <= 2:
                ts_field = int.from_bytes(buf[p : p + 4], "big")
            p += 4  # type 3 chunks repeat the extended field; its value is known already
        if fmt <= 1:
            length = int.from_bytes(header[3:6], "big")
        elif state is not None:
            length = state.length
        else:  # unreachable: only type 0 may open a chunk stream (checked above)
            raise RtmpError("chunk stream without a header")
        if length > self.max_message:
            raise RtmpError(f"message of {length} bytes is over the limit")
        have = len(state.partial) if state is not None else 0
        take = min(self.chunk_size, length - have)
        if p + take > end:
            return None
        # The whole chunk is here: commit.
        if state is None:
            if len(self._streams) >= MAX_CHUNK_STREAMS:
                raise RtmpError("too many chunk streams")
            state = self._streams[csid] = _ChunkStreamState()
        new_message = not state.partial
        if fmt <= 2:
            state.extended, state.ts_field = extended, ts_field
            state.timestamp = ts_field if fmt == 0 else state.timestamp + ts_field
            if fmt <= 1:
                state.length, state.type_id = length, header[6]
            if fmt == 0:
                state.stream_id = int.from_bytes(header[7:11], "little")
        elif new_message:
            state.timestamp += state.ts_field
        state.partial += buf[p : p + take]
        p += take
        if len(state.partial) < state.length:
            return p, None
        payload, state.partial = bytes(state.partial), bytearray()
        if state.type_id == SET_CHUNK_SIZE:
            # Applies to the very next chunk, which may already be in the buffer.
            size = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
            if not 1 <= size <= MAX_MESSAGE:
                raise RtmpError(f"bad chunk size {size}")
            self.chunk_size = size
        return p, RtmpMessage(state.type_id, state.timestamp, state.stream_id, payload)


def encode_message(csid: int, message: RtmpMessage, chunk_size: int) -> bytes:
    """One type-0 chunk, then type-3 continuations: simple, and every peer reads it."""
    extended = message.timestamp >= 0xFFFFFF
    ts = (0xFFFFFF if extended else message.timestamp).to_bytes(3, "big")
    ext = (message.timestamp & 0xFFFFFFFF).to_bytes(4, "big") if extended else b""
    header = (
        bytes([csid])
        + ts
        + len(message.payload).to_bytes(3, "big")
        + bytes([message.type_id])
        + message.stream_id.to_bytes(4, "little")
        + ext
    )
    out = bytearray(header)
    payload = message.payload
    for offset in range(0, max(len(payload), 1), chunk_size):
        if offset:
            out += bytes([0xC0 | csid]) + ext  # continuations repeat the extended field
        out += payload[offset : offset + chunk_size]
    return bytes(out)


# --------------------------------------------------------------------------------- connection
class RtmpConnection:
    """One publisher, from the handshake to the end of its publication."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = ChunkParser(MAX_MESSAGE_BEFORE_AUTH)
        peer = writer.get_extra_info("peername") or ("?", 0)
        self.peer = f"{peer[0]}:{peer[1]}"
        self.app = ""
        self.stream_name = ""
        self._pending: deque[RtmpMessage] = deque()
        self._peer_window = 0
        self._acked = 0
        self._closed = False

    # Sending ----------------------------------------------------------------------------

    def _send(self, csid: int, type_id: int, payload: bytes, stream_id: int = 0) -> None:
        self.writer.write(encode_message(csid, RtmpMessage(type_id, 0, stream_id, payload), CHUNK))

    def _command(self, *values: Any, stream_id: int = 0) -> None:
        self._send(3, COMMAND_AMF0, amf0_encode(*values), stream_id)

    def _status(self, level: str, code: str, description: str) -> None:
        info = {"level": level, "code": code, "description": description}
        self._command("onStatus", 0, None, info, stream_id=1)

    # Receiving --------------------------------------------------------------------------

    async def handshake(self) -> None:
        c0c1 = await self.reader.readexactly(1 + HANDSHAKE_SIZE)
        if c0c1[0] != 3:
            raise RtmpError(f"unsupported RTMP version {c0c1[0]}")
        # Plain handshake: zero version bytes in S1 tell FFmpeg and librtmp (OBS) not to
        # expect the Flash-era digest; S2 echoes C1.
        self.writer.write(b"\x03" + _handshake_block() + c0c1[1:])
        await self.writer.drain()
        await self.reader.readexactly(HANDSHAKE_SIZE)  # C2: nothing in it that we need

    async def next_message(self) -> RtmpMessage:
        """Raises: RtmpError when the peer breaks the protocol or closes the connection."""
        while not self._pending:
            data = await self.reader.read(65536)
            if not data:
                raise RtmpError("connection closed by the encoder")
            self._pending.extend(self._take(data))
            await self.writer.drain()
        return self._pending.popleft()

    def _take(self, data: bytes) -> list[RtmpMessage]:
        """Parse received bytes; handle protocol control; return the rest."""
        out = []
        for message in self.parser.feed(data):
            payload = message.payload
            if message.type_id == SET_CHUNK_SIZE:
                continue  # the parser applied it
            if message.type_id == WINDOW_ACK_SIZE and len(payload) >= 4:
                self._peer_window = struct.unpack(">I", payload[:4])[0]
            elif message.type_id == USER_CONTROL and payload[:2] == b"\x00\x06":
                self._send(2, USER_CONTROL, b"\x00\x07" + payload[2:6])  # ping -> pong
            elif message.type_id not in (ACK, ABORT, PEER_BANDWIDTH, USER_CONTROL):
                out.append(message)
        # The peer may wait for acknowledgements once it has sent a window's worth.
        received = self.parser.bytes_read
        if self._peer_window and received - self._acked >= self._peer_window:
            self._acked = received
            self._send(2, ACK, struct.pack(">I", received & 0xFFFFFFFF))
        return out

    async def negotiate(self, authorize: Authorize) -> Decision:
        """Answer commands until `publish`; return the verdict on its stream name."""
        while True:
            message = await self.next_message()
            if message.type_id in MEDIA_TYPES:
                return Decision(False, "media sent before publish")
            values = command_values(message)
            if len(values) < 2 or not isinstance(values[0], str):
                continue
            name, txn, args = values[0], values[1], values[2:]
            if name == "connect":
                self._on_connect(txn, args[0] if args and isinstance(args[0], dict) else {})
            elif name in ("releaseStream", "FCPublish", "FCUnpublish"):
                self._command("_result", txn, None)
            elif name == "createStream":
                self._command("_result", txn, None, 1)
            elif name == "publish":
                raw = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
                # Encoders may append "?query" to the key (OBS does for some services).
                self.stream_name = raw.split("?", 1)[0]
                decision = authorize(self.app, self.stream_name)
                self._answer_publish(decision)
                await self.writer.drain()
                return decision
            elif name in ("play", "play2"):
                return Decision(False, "this server only accepts publishers")
            await self.writer.drain()

    def _on_connect(self, txn: float, params: dict[str, Any]) -> None:
        self.app = str(params.get("app", "")).strip("/")
        self._send(2, WINDOW_ACK_SIZE, struct.pack(">I", WINDOW))
        self._send(2, PEER_BANDWIDTH, struct.pack(">IB", WINDOW, 2))
        self._send(2, SET_CHUNK_SIZE, struct.pack(">I", CHUNK))
        self._command(
            "_result",
            txn,
            {"fmsVer": "FMS/3,0,1,123", "capabilities": 31},
            {
                "level": "status",
                "code": "NetConnection.Connect.Success",
                "description": "Connection succeeded.",
                "objectEncoding": 0,
            },
        )

    def _answer_publish(self, decision: Decision) -> None:
        if not decision.accepted:
            self._status("error", "NetStream.Publish.BadName", decision.reason or "refused")
            return
        self.parser.max_message = MAX_MESSAGE
        self._send(2, USER_CONTROL, struct.pack(">HI", 0, 1))  # StreamBegin on stream 1
        self._status("status", "NetStream.Publish.Start", "Publishing.")

    async def media(self) -> AsyncIterator[RtmpMessage]:
        """Audio, video and metadata messages until the encoder unpublishes or disconnects."""
        while True:
            try:
                message = await self.next_message()
                values = command_values(message)
            except (RtmpError, ConnectionError):
                return
            if message.type_id in MEDIA_TYPES:
                yield message
            elif values and values[0] in ("FCUnpublish", "deleteStream", "closeStream"):
                return

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await self.writer.wait_closed()


def _handshake_block() -> bytes:
    """S1: time, four zero bytes (plain handshake), random filler."""
    stamp = int(time.monotonic() * 1000) & 0xFFFFFFFF
    return struct.pack(">II", stamp, 0) + os.urandom(HANDSHAKE_SIZE - 8)


# ------------------------------------------------------------------------------------- server
Publisher = Callable[[RtmpConnection], Awaitable[None]]
Refused = Callable[[RtmpConnection, str], None]


class RtmpServer:
    """Accepts publishers on host:port; `on_publish` owns a connection once its key passed,
    `on_refused` hears of publish requests `authorize` turned down."""

    def __init__(
        self,
        host: str,
        port: int,
        authorize: Authorize,
        on_publish: Publisher,
        on_refused: Refused | None = None,
        negotiate_timeout: float = 10.0,
        max_pending: int = 16,
    ) -> None:
        self.host, self.port = host, port
        self._authorize, self._on_publish, self._on_refused = authorize, on_publish, on_refused
        self._negotiate_timeout = negotiate_timeout
        # Bounds how many unauthenticated sockets a stranger can hold open at once.
        self._pending = asyncio.Semaphore(max_pending)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connections: set[RtmpConnection] = set()

    async def start(self) -> None:
        """Raises: OSError when the port cannot be listened on (taken, not ours to bind)."""
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening, end every connection and wait (bounded) for their handlers."""
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            await conn.close()  # handlers reading from it see the end and return
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=CLOSE_SECONDS)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        conn = RtmpConnection(reader, writer)
        self._connections.add(conn)
        try:
            decision = await self._negotiate(conn)
            if decision is None:
                return
            if not decision.accepted:
                self._refuse(conn, decision.reason)
                return
            await self._on_publish(conn)
        except asyncio.CancelledError:
            pass  # only close() cancels a handler: ending quietly is the point
        except Exception:
            logger.exception("RTMP connection from %s failed", conn.peer)
        finally:
            await conn.close()
            self._connections.discard(conn)
            if task is not None:
                self._tasks.discard(task)

    async def _negotiate(self, conn: RtmpConnection) -> Decision | None:
        """The verdict on the connection's publish request; None when it never made one."""
        if self._pending.locked():
            logger.warning("RTMP connection from %s dropped: too many waiting", conn.peer)
            return None
        async with self._pending:
            try:
                async with asyncio.timeout(self._negotiate_timeout):
                    await conn.handshake()
                    return await conn.negotiate(self._authorize)
            except TimeoutError:
                reason = "no publish request in time"
            except (RtmpError, asyncio.IncompleteReadError, ConnectionError) as exc:
                reason = f"protocol error: {exc}"
        # A port scan or a health check is not an encoder: logged, not reported.
        logger.info("RTMP connection from %s dropped: %s", conn.peer, reason)
        return None

    def _refuse(self, conn: RtmpConnection, reason: str) -> None:
        logger.warning("RTMP publish from %s refused: %s", conn.peer, reason)
        if self._on_refused is not None:
            self._on_refused(conn, reason)
