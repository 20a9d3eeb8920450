"""Where finished files go: stay under RECORDINGS_DIR, or go to S3 (multipart) from there."""

import hashlib
import re
from pathlib import Path, PurePosixPath

from meetings.worker.settings import WorkerSettings

# The same rule as the app's file names: plain relative parts, nothing that climbs out.
SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
PART_SIZE = 16 * 1024 * 1024  # S3 multipart chunk; files above it go up in parts


def local_path(root: Path, file_name: str) -> Path:
    """RECORDINGS_DIR/file_name. Raises: ValueError for a name that would leave the root."""
    parts = PurePosixPath(file_name).parts
    if (
        not file_name
        or file_name.startswith("/")
        or "\\" in file_name
        or not parts
        or any(not SAFE_PART.match(part) for part in parts)
    ):
        raise ValueError(f"unsafe file name {file_name!r}")
    return root.joinpath(*parts)


def digest(path: Path) -> tuple[str, int]:
    """(sha256 hex, size in bytes) of a file, read in blocks."""
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            sha.update(block)
            size += len(block)
    return sha.hexdigest(), size


def upload(settings: WorkerSettings, path: Path, file_name: str) -> str:
    """Upload to RECORDINGS_S3_BUCKET at RECORDINGS_S3_PREFIX + file_name; returns the key.

    Blocking (run it in an executor). Raises: botocore/boto3 errors, ValueError without a bucket.
    """
    import boto3  # only S3 deployments pay for importing it
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    if not settings.s3_bucket:
        raise ValueError("RECORDINGS_S3_BUCKET is not set")
    client = boto3.client(
        "s3",
        region_name=settings.s3_region,
        endpoint_url=settings.s3_endpoint or None,
        aws_access_key_id=settings.s3_access_key or None,
        aws_secret_access_key=settings.s3_secret_key or None,
        config=Config(
            s3={"addressing_style": "path" if settings.s3_path_style else "auto"},
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        ),
    )
    key = settings.s3_prefix + file_name
    content_type = "audio/mp4" if file_name.endswith(".m4a") else "video/mp4"
    client.upload_file(
        str(path),
        settings.s3_bucket,
        key,
        ExtraArgs={"ContentType": content_type},
        Config=TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE),
    )
    return key
