"""RTMP destinations hosts enter (YouTube, Twitch, any RTMP server): checked, shown masked,
and stored encrypted.

A destination is one URL whose last path part is the stream key, as services show them
(`rtmp://a.rtmp.youtube.com/live2/<key>`). The key is a secret: the URL is kept encrypted
with a key derived from SECRET_KEY (Fernet: AES with an HMAC), and pages and the API show
only `destination_hint`, the key's last four characters.
"""

import base64
import ipaddress
import socket
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from meetings.errors import ApiError

SCHEMES = ("rtmp", "rtmps")
MAX_URL = 500


class DestinationUnreadable(Exception):
    """A stored destination cannot be decrypted (SECRET_KEY changed since it was entered)."""


def check(url: str, field: str) -> str:
    """The destination, trimmed.

    Raises: ApiError 422 naming `field` for anything but rtmp(s)://host[:port]/app/key, or a
        private or loopback address unless STREAM_PRIVATE_DESTINATIONS allows it.
    """
    url = url.strip()
    parts = urlsplit(url)
    app_and_key = [part for part in parts.path.split("/") if part]
    problem = ""
    if len(url) > MAX_URL:
        problem = f"at most {MAX_URL} characters"
    elif parts.scheme not in SCHEMES or not parts.hostname:
        problem = "use an rtmp:// or rtmps:// URL, as your streaming service shows it"
    elif len(app_and_key) < 2:
        problem = "add the stream key at the end: rtmp://server/app/<stream key>"
    elif not current_app.config["STREAM_PRIVATE_DESTINATIONS"] and _private(parts.hostname):
        problem = f"{parts.hostname} is a private address"
    if problem:
        raise ApiError(422, "invalid_field", f"{field}: {problem}", field)
    return url


def _private(host: str) -> bool:
    """Whether any address the name resolves to is loopback, private or link-local."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False  # unknown here; the worker's connection will fail and say so
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified:
            return True
    return False


def hint(url: str) -> str:
    """The URL with its stream key masked: `rtmp://host/app/****abcd`."""
    head, _, key = url.rstrip("/").rpartition("/")
    return f"{head}/****{key[-4:] if len(key) > 8 else ''}"


def _fernet() -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"meetings stream destinations"
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(url: str) -> str:
    return _fernet().encrypt(url.encode()).decode()


def decrypt(token: str) -> str:
    """Raises: DestinationUnreadable."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise DestinationUnreadable("enter the destination again") from error
