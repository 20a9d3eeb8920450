"""Settings, read from the environment once at start-up.

Every setting has a name users can look up in the README's configuration table.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'meetings.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # The API URL the app talks to, and the ws(s) URL browsers connect to.
    LIVEKIT_URL = os.environ.get("LIVEKIT_URL", "")
    LIVEKIT_PUBLIC_URL = os.environ.get("LIVEKIT_PUBLIC_URL", "") or LIVEKIT_URL
    LIVEKIT_API_KEY = os.environ.get("LIVEKIT_API_KEY", "")
    LIVEKIT_API_SECRET = os.environ.get("LIVEKIT_API_SECRET", "")
    # livekit-api has no working timeout of its own: every call is bounded by this.
    LIVEKIT_TIMEOUT_SECONDS = float(os.environ.get("LIVEKIT_TIMEOUT_SECONDS", "5"))
    # Media tokens are short-lived; the page fetches a fresh one to rejoin.
    LIVEKIT_TOKEN_TTL_SECONDS = _env_int("LIVEKIT_TOKEN_TTL_SECONDS", 3600)
    # How long an empty room lives on the server before it is closed.
    LIVEKIT_EMPTY_TIMEOUT_SECONDS = _env_int("LIVEKIT_EMPTY_TIMEOUT_SECONDS", 300)
    LIVEKIT_DEPARTURE_TIMEOUT_SECONDS = _env_int("LIVEKIT_DEPARTURE_TIMEOUT_SECONDS", 20)

    # Public base URL for links in API answers and calendar files; the request's own
    # host is used when this is empty.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 1024 * 1024

    REQUIRED_SETTINGS: tuple[str, ...] = ()


class DevelopmentConfig(Config):
    """`make run` on a laptop: plain http on loopback, keys from instance/dev.env."""


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    REQUIRED_SETTINGS = (
        "SECRET_KEY",
        "LIVEKIT_URL",
        "LIVEKIT_API_KEY",
        "LIVEKIT_API_SECRET",
    )


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-that-is-long-enough-for-hmac"  # noqa: S105 (tests only)
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    LIVEKIT_URL = "http://127.0.0.1:1"
    LIVEKIT_PUBLIC_URL = "ws://127.0.0.1:1"
    LIVEKIT_API_KEY = "testkey"
    LIVEKIT_API_SECRET = "test-livekit-secret-at-least-32-characters"  # noqa: S105


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}
