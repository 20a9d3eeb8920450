"""The RTMP publish server's sans-I/O parts: the chunk stream, AMF0, and the limits that
keep a stranger (no key yet) from making the server hold much."""

import pytest

from meetings.worker.rtmp_server import (
    AUDIO,
    COMMAND_AMF0,
    MAX_CHUNK_STREAMS,
    VIDEO,
    ChunkParser,
    RtmpError,
    RtmpMessage,
    amf0_decode,
    amf0_encode,
    encode_message,
)


def test_the_parser_reassembles_messages_fed_one_byte_at_a_time() -> None:
    messages = [
        RtmpMessage(COMMAND_AMF0, 0, 0, amf0_encode("connect", 1, {"app": "live"}, None, True)),
        RtmpMessage(VIDEO, 40, 1, bytes(range(256)) * 40),  # several chunks
        RtmpMessage(AUDIO, 0x1000000 + 5, 1, b"\xaf\x01" + b"a" * 300),  # extended timestamp
    ]
    stream = b"".join(encode_message(4, m, 128) for m in messages)
    parser = ChunkParser(max_message=1 << 20)
    received = [m for i in range(len(stream)) for m in parser.feed(stream[i : i + 1])]
    assert received == messages
    assert amf0_decode(received[0].payload) == ["connect", 1.0, {"app": "live"}, None, True]


def test_before_the_key_is_checked_a_stranger_cannot_make_the_server_hold_much() -> None:
    huge = encode_message(3, RtmpMessage(COMMAND_AMF0, 0, 0, b"x" * 70_000), 128)
    with pytest.raises(RtmpError, match="over the limit"):
        ChunkParser().feed(huge)
    # The first chunk of a message on each of many chunk streams: refused past a few.
    parser = ChunkParser()
    with pytest.raises(RtmpError, match="too many chunk streams"):
        for csid in range(3, 3 + MAX_CHUNK_STREAMS + 1):
            first_chunk = encode_message(csid, RtmpMessage(VIDEO, 0, 1, b"v" * 1000), 128)[:140]
            assert parser.feed(first_chunk) == []
