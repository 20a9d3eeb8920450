"""An S3-compatible server for the recordings tests: moto in server mode on a free port."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from meetings.livekit_process import free_port


@contextmanager
def moto_bucket(bucket: str, access_key: str, secret_key: str) -> Iterator[tuple[str, Any]]:
    """A running server with `bucket` made; yields (endpoint, boto3 client)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
    )
    try:
        client.create_bucket(Bucket=bucket)
        yield endpoint, client
    finally:
        client.close()
        server.stop()
