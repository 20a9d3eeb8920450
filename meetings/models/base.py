"""Shared column types and helpers for the models."""

import enum
import hashlib
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """A timestamp that is always UTC-aware in Python, whatever the engine stores."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def _enum_values(enum_class: type[enum.Enum]) -> list[str]:
    # Store the lower-case values users see ("host"), not the Python member names.
    return [member.value for member in enum_class]


class Role(enum.StrEnum):
    HOST = "host"
    OPS = "ops"


def hash_api_token(token: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 is enough: no salt, no stretching.
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret(prefix: str = "") -> tuple[str, str]:
    """A random token for a link or header, and the hash that is stored instead of it."""
    clear = prefix + secrets.token_urlsafe(32)
    return clear, hash_api_token(clear)
