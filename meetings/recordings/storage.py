"""Where recording files live: a local directory (default) or an S3-compatible bucket.

The egress worker writes the file; this app only names it, checks the name the worker
reports back, serves it and deletes it. S3 credentials come from config and never leave the
server except inside the egress request.
"""

import posixpath
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from flask import current_app

from meetings import livekit_gateway as gateway
from meetings.models import RecorderKind, Recording, StorageKind

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class UnsafeFileName(ValueError):
    """A file name from outside that would leave the storage root."""


class StorageUnavailable(RuntimeError):
    """The bucket did not answer or refused; the message says how."""


def new_file_name(
    room_name: str,
    requested_at: datetime,
    audio_only: bool,
    recorder: RecorderKind = RecorderKind.EGRESS,
) -> str:
    """`<room>-<UTC time>.mp4` (audio only: .ogg from Egress, .m4a from the built-in
    recorder): unique per room and second."""
    stamp = requested_at.strftime("%Y%m%dT%H%M%SZ")
    audio = "m4a" if recorder == RecorderKind.BUILTIN else "ogg"
    return f"{room_name}-{stamp}.{audio if audio_only else 'mp4'}"


def check_relative(name: str) -> str:
    """`name` if it is a plain relative path inside the root, else UnsafeFileName."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        raise UnsafeFileName(f"not a relative file name: {name!r}")
    parts = PurePosixPath(name).parts
    if any(part in ("..", ".") or not SAFE_NAME.match(part) for part in parts):
        raise UnsafeFileName(f"file name leaves the recordings directory: {name!r}")
    return posixpath.join(*parts)


@dataclass(frozen=True)
class LocalStorage:
    root: Path  # as this app sees it
    egress_root: str  # the same directory as the egress worker sees it

    kind = StorageKind.LOCAL

    def target(self, name: str, audio_only: bool) -> gateway.FileTarget:
        return gateway.FileTarget(f"{self.egress_root.rstrip('/')}/{name}", audio_only)

    def accept(self, reported: str) -> str:
        """The stored name for the file the worker reports (an absolute path or a name).

        Raises: UnsafeFileName for anything outside the recordings directory.
        """
        prefix = self.egress_root.rstrip("/") + "/"
        name = reported[len(prefix) :] if reported.startswith(prefix) else reported
        name = check_relative(name)
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise UnsafeFileName(f"file name leaves the recordings directory: {reported!r}")
        return name

    def path(self, name: str) -> Path:
        """Raises: UnsafeFileName (a stored name is checked again before any file access)."""
        return self.root / check_relative(name)

    def size(self, name: str) -> int | None:
        path = self.path(name)
        return path.stat().st_size if path.is_file() else None

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)


@dataclass(frozen=True)
class S3Storage:
    bucket: str
    region: str
    endpoint: str
    path_style: bool
    access_key: str
    secret: str = ""
    prefix: str = ""

    kind = StorageKind.S3

    def __repr__(self) -> str:  # never print the secret in a log line or traceback
        return f"S3Storage(bucket={self.bucket!r}, endpoint={self.endpoint!r})"

    def key(self, name: str) -> str:
        return f"{self.prefix}{check_relative(name)}"

    def target(self, name: str, audio_only: bool) -> gateway.FileTarget:
        s3 = gateway.S3Target(
            self.bucket, self.region, self.endpoint, self.path_style, self.access_key, self.secret
        )
        return gateway.FileTarget(self.key(name), audio_only, s3)

    def accept(self, reported: str) -> str:
        """The stored name for the key the worker reports.

        Raises: UnsafeFileName for a key outside our prefix or with `..` in it.
        """
        if not reported.startswith(self.prefix):
            raise UnsafeFileName(f"key outside {self.prefix!r}: {reported!r}")
        return check_relative(reported[len(self.prefix) :])

    def client(self):
        import boto3  # only installations that record to S3 load it
        from botocore.config import Config

        style = "path" if self.path_style else "virtual"
        return boto3.client(
            "s3",
            region_name=self.region,
            endpoint_url=self.endpoint or None,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret,
            config=Config(signature_version="s3v4", s3={"addressing_style": style}),
        )

    def presigned_url(self, name: str, ttl: int, content_type: str, download: bool) -> str:
        params = {"Bucket": self.bucket, "Key": self.key(name), "ResponseContentType": content_type}
        if download:
            params["ResponseContentDisposition"] = f'attachment; filename="{_basename(name)}"'
        return self.client().generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)

    def size(self, name: str) -> int | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            head = self.client().head_object(Bucket=self.bucket, Key=self.key(name))
        except ClientError:
            return None
        except BotoCoreError as error:
            raise StorageUnavailable(str(error)) from error
        return head["ContentLength"]

    def delete(self, name: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client().delete_object(Bucket=self.bucket, Key=self.key(name))
        except (BotoCoreError, ClientError) as error:
            raise StorageUnavailable(str(error)) from error


def _basename(name: str) -> str:
    return PurePosixPath(name).name


def configured() -> LocalStorage | S3Storage:
    """The storage new recordings go to."""
    return for_kind(StorageKind(current_app.config["RECORDINGS_STORAGE"]))


def for_kind(kind: StorageKind) -> LocalStorage | S3Storage:
    config = current_app.config
    if kind == StorageKind.S3:
        return S3Storage(
            bucket=config["RECORDINGS_S3_BUCKET"],
            region=config["RECORDINGS_S3_REGION"],
            endpoint=config["RECORDINGS_S3_ENDPOINT"],
            path_style=config["RECORDINGS_S3_PATH_STYLE"],
            access_key=config["RECORDINGS_S3_ACCESS_KEY"],
            secret=config["RECORDINGS_S3_SECRET_KEY"],
            prefix=config["RECORDINGS_S3_PREFIX"],
        )
    root = Path(config["RECORDINGS_DIR"])
    return LocalStorage(root, config["RECORDINGS_EGRESS_DIR"] or str(root))


def of(recording: Recording) -> LocalStorage | S3Storage:
    return for_kind(recording.storage)
