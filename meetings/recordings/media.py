"""Serving a recording's file: byte ranges from the local directory, or a short-lived
presigned URL for S3 (the bucket answers ranges itself)."""

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from flask import Response, abort, current_app, g, redirect

from meetings.models import Recording
from meetings.recordings import storage

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


class BadRange(ValueError):
    """A Range header that is malformed or starts past the end of the file."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range asked for, None for the whole file.

    Raises: BadRange (answered with 416). Several ranges at once are refused too: browsers
    never ask for them, and a multipart answer is not worth its complexity here.
    """
    if header is None:
        return None
    match = RANGE.match(header.strip())
    if match is None:
        raise BadRange(header)
    first, last = match.groups()
    if not first and not last:
        raise BadRange(header)
    if not first:  # "bytes=-500": the last 500 bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise BadRange(header)
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise BadRange(header)
    return start, min(end, size - 1)


def serve(recording: Recording, range_header: str | None, *, download: bool) -> Response:
    """The file of a complete recording, or 404 when there is none (yet)."""
    if not recording.has_file:
        abort(404, "This recording has no file to play.")
    where = storage.of(recording)
    if isinstance(where, storage.S3Storage):
        url = where.presigned_url(
            recording.file_name,
            current_app.config["RECORDING_URL_TTL_SECONDS"],
            recording.content_type,
            download,
        )
        response = redirect(url, code=302)
        response.headers["Cache-Control"] = "no-store"  # the URL expires soon
        return response
    try:
        path = where.path(recording.file_name)
    except storage.UnsafeFileName:
        abort(404, "This recording has no file to play.")
    if not path.is_file():
        abort(404, "The recording's file is missing from the recordings directory.")
    return _ranged(path, recording.content_type, range_header, download)


def _ranged(path: Path, content_type: str, range_header: str | None, download: bool) -> Response:
    size = path.stat().st_size
    try:
        wanted = parse_range(range_header, size)
    except BadRange:
        response = Response(status=416)
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    start, end = wanted if wanted is not None else (0, size - 1)
    length = max(end - start + 1, 0)
    response = Response(
        _read(path, start, length),
        status=206 if wanted is not None else 200,
        mimetype=content_type,
        direct_passthrough=True,
    )
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Content-Length"] = str(length)
    if wanted is not None:
        response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{path.name}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _read(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as file:
        file.seek(start)
        while length > 0:
            chunk = file.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def allow_playback_from_bucket(recording: Recording) -> None:
    """Let this page's <video> follow the redirect to the bucket (CSP media-src)."""
    where = storage.of(recording)
    if not isinstance(where, storage.S3Storage) or not recording.has_file:
        return
    url = where.presigned_url(recording.file_name, 60, recording.content_type, False)
    parts = urlsplit(url)
    g.media_origins = (*g.get("media_origins", ()), f"{parts.scheme}://{parts.netloc}")
