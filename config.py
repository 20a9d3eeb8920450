"""Settings, read from the environment once at start-up.

Every setting has a name users can look up in the README's configuration table.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    # Where people reach the service (https://meet.example.com). Every absolute link (mails,
    # calendar files, API answers) is built from it, never from a request's Host header, and
    # requests for any other host are refused (400).
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "").rstrip("/")
    # Other host names the app may be reached by (comma-separated), e.g. an internal name.
    EXTRA_TRUSTED_HOSTS = _env_list("EXTRA_TRUSTED_HOSTS")
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
    # A join token is used once, right after it is made: livekit-server hands connected
    # participants a fresh token at once and every 5 minutes (10 minutes' life), so a long
    # meeting and a reconnect never need ours again. Short, so that a token somebody kept
    # after a host removed them soon stops working (the server accepts up to a minute late).
    LIVEKIT_TOKEN_TTL_SECONDS = _env_int("LIVEKIT_TOKEN_TTL_SECONDS", 120)
    # How long an empty room lives on the server before it is closed.
    LIVEKIT_EMPTY_TIMEOUT_SECONDS = _env_int("LIVEKIT_EMPTY_TIMEOUT_SECONDS", 300)
    LIVEKIT_DEPARTURE_TIMEOUT_SECONDS = _env_int("LIVEKIT_DEPARTURE_TIMEOUT_SECONDS", 20)

    # The join window: tokens from this long before an occurrence to this long after its
    # end. Hosts and co-hosts may always open the next occurrence early.
    JOIN_EARLY_MINUTES = _env_int("JOIN_EARLY_MINUTES", 10)
    JOIN_GRACE_MINUTES = _env_int("JOIN_GRACE_MINUTES", 15)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Werkzeug's scrypt (N=2^15, r=8, p=1): about 0.1 s of a core per hash, on purpose.
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a hash method, not a password)

    # Registration: "open", "invite" (ops hands out expiring links) or "closed". Ops can
    # change it on the settings page; this is the value before they do.
    REGISTRATION_POLICY = os.environ.get("REGISTRATION_POLICY", "invite")
    INVITE_VALID_DAYS = _env_int("INVITE_VALID_DAYS", 7)
    PASSWORD_RESET_VALID_MINUTES = _env_int("PASSWORD_RESET_VALID_MINUTES", 60)
    EMAIL_VERIFICATION_VALID_HOURS = _env_int("EMAIL_VERIFICATION_VALID_HOURS", 48)

    # Outgoing mail for password resets. Without SMTP_HOST mails are written to the log.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = _env_int("SMTP_PORT", 587)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "true").lower() == "true"
    MAIL_FROM = os.environ.get("MAIL_FROM", "meetings@localhost")
    # Without SMTP, development writes whole mails (reset links included) to the log;
    # production only notes that a mail could not be sent.
    MAIL_BODY_TO_LOG = False
    # Mail leaves after the answer, from a thread: answers take the same time whether or not
    # a mail was sent (no account discovery by timing), and a slow SMTP server holds nobody.
    MAIL_IN_BACKGROUND = True
    # "smtp" (through SMTP_HOST, or to the log without one) or "memory": kept in the app's
    # `mail_outbox` list, for the test suite.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")

    # Brute-force limits (Flask-Limiter). "database://" counts in the app's own database, so
    # every worker and instance counts the same hits with no extra service; a redis:// URL
    # takes that load off the database on a busy cluster.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "database://")
    RATELIMIT_HEADERS_ENABLED = True
    # Wrong passwords, counted per account and address together (a stranger cannot lock an
    # account for its owner) and per address (one address trying many accounts).
    LOGIN_FAILURE_LIMIT = os.environ.get("LOGIN_FAILURE_LIMIT", "10 per minute")
    LOGIN_ADDRESS_LIMIT = os.environ.get("LOGIN_ADDRESS_LIMIT", "30 per minute")
    # Reset mails: per account (no mail bombing) and per address.
    RESET_MAIL_LIMIT = os.environ.get("RESET_MAIL_LIMIT", "3 per hour")
    RESET_ADDRESS_LIMIT = os.environ.get("RESET_ADDRESS_LIMIT", "10 per minute")
    # Wrong access codes per meeting, whoever sends them: past it, nobody tries for a while.
    ACCESS_CODE_FAILURE_LIMIT = os.environ.get("ACCESS_CODE_FAILURE_LIMIT", "10 per 10 minutes")
    # "Send the confirmation link again", per account.
    VERIFY_MAIL_LIMIT = os.environ.get("VERIFY_MAIL_LIMIT", "3 per hour")
    # Moderation calls per signed-in caller (refusals are written to the audit log).
    MODERATION_LIMIT = os.environ.get("MODERATION_LIMIT", "120 per minute")
    TOKEN_REQUEST_LIMIT = os.environ.get("TOKEN_REQUEST_LIMIT", "60 per minute")
    API_AUTH_FAILURE_LIMIT = os.environ.get("API_AUTH_FAILURE_LIMIT", "30 per minute")
    # One counter row per key and window; a moving window would store every hit.
    RATELIMIT_STRATEGY = "fixed-window"
    # How many proxies in front of the app set X-Forwarded-For (0: none, use the peer).
    TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)

    # A waiting person's page holds `GET .../lobby/<id>?wait=N` open until a host decides,
    # up to LOBBY_WAIT_SECONDS (under the proxies' usual 30-60 s idle timeouts). Each held
    # request takes one gunicorn thread, so a process holds at most LOBBY_WAIT_SLOTS of them
    # (half of the default 8 threads) and answers the rest at once, as without `wait`; their
    # pages then ask every second, as before. A full lobby can thus never starve the app.
    LOBBY_WAIT_SECONDS = _env_int("LOBBY_WAIT_SECONDS", 25)
    LOBBY_WAIT_SLOTS = _env_int("LOBBY_WAIT_SLOTS", 4)

    # Raw webhook events older than this are deleted by `flask livekit purge` (0: never).
    # Sessions and attendance derived from them are kept.
    LEDGER_RETENTION_DAYS = _env_int("LEDGER_RETENTION_DAYS", 90)
    # "background": the webhook answer waits only for the event's INSERT; a thread per
    # process derives sessions and attendance right after. "in_request": derive before
    # answering (the unit tests, which read derived rows straight after a delivery).
    WEBHOOK_DERIVE = os.environ.get("WEBHOOK_DERIVE", "background")

    # Who records: "builtin" (the media worker's meetings-recorder job, `python -m
    # meetings.worker start`) or "egress" (LiveKit Egress, which needs its own service).
    # `make run` starts the worker next to the app; docs/DEPLOY.md says how to run it elsewhere.
    RECORDER = os.environ.get("RECORDER", "builtin")
    # builtin: how long a start waits for a worker to take the job before it fails, and how
    # recently a worker must have reported in (its heartbeat comes every 10 s) to be tried.
    # Live captions hold their captioner (a job of the same worker) to both as well.
    RECORDER_ACCEPT_SECONDS = float(os.environ.get("RECORDER_ACCEPT_SECONDS", "5"))
    RECORDER_HEARTBEAT_SECONDS = _env_int("RECORDER_HEARTBEAT_SECONDS", 30)
    # Stream in (RTMP from OBS or an encoder, the worker's meetings-ingest job): the host name
    # encoders reach the media worker at (default: PUBLIC_URL's), and the ports ingests take,
    # one each for as long as the ingest exists ("1935-1944": ten ingests).
    INGEST_RTMP_HOST = os.environ.get("INGEST_RTMP_HOST", "")
    INGEST_RTMP_PORTS = os.environ.get("INGEST_RTMP_PORTS", "1935-1944")
    # Who receives them: "builtin" (the media worker) or "livekit" (LiveKit Ingress, a service
    # of its own, at the URL it gives; then the two settings above do not apply).
    INGRESS = os.environ.get("INGRESS", "builtin")
    # Stream out: where the media worker writes a stream's HLS files (the watch page serves
    # them from here: the same directory, or a shared volume), and whether hosts may send
    # streams to private and loopback addresses (off: the worker would reach into its own
    # network for whoever starts a stream).
    STREAMS_DIR = os.environ.get("STREAMS_DIR", str(INSTANCE_DIR / "streams"))
    STREAM_PRIVATE_DESTINATIONS = os.environ.get("STREAM_PRIVATE_DESTINATIONS", "") == "true"
    # `flask streams purge` deletes a stream's watch-page files this long after it ended.
    STREAM_HLS_KEEP_HOURS = _env_int("STREAM_HLS_KEEP_HOURS", 24)
    # RECORDER=egress: STREAMS_DIR as the egress service sees it, if mounted elsewhere there.
    STREAMS_EGRESS_DIR = os.environ.get("STREAMS_EGRESS_DIR", "")
    # builtin: a running recording the worker has not reported on for this long is lost
    # (`flask recordings reconcile` fails it); the worker reports progress every 5 s.
    RECORDER_SILENT_SECONDS = _env_int("RECORDER_SILENT_SECONDS", 60)

    # Recording through LiveKit Egress. Files go to RECORDINGS_DIR unless
    # RECORDINGS_STORAGE is "s3". The egress worker writes them: RECORDINGS_EGRESS_DIR is the
    # same directory as that worker sees it (a shared volume may be mounted elsewhere there).
    RECORDINGS_STORAGE = os.environ.get("RECORDINGS_STORAGE", "local")
    RECORDINGS_DIR = os.environ.get("RECORDINGS_DIR", str(INSTANCE_DIR / "recordings"))
    RECORDINGS_EGRESS_DIR = os.environ.get("RECORDINGS_EGRESS_DIR", "")
    RECORDINGS_S3_BUCKET = os.environ.get("RECORDINGS_S3_BUCKET", "")
    RECORDINGS_S3_REGION = os.environ.get("RECORDINGS_S3_REGION", "us-east-1")
    RECORDINGS_S3_ENDPOINT = os.environ.get("RECORDINGS_S3_ENDPOINT", "")
    RECORDINGS_S3_PATH_STYLE = os.environ.get("RECORDINGS_S3_PATH_STYLE", "false").lower() == "true"
    RECORDINGS_S3_ACCESS_KEY = os.environ.get("RECORDINGS_S3_ACCESS_KEY", "")
    RECORDINGS_S3_SECRET_KEY = os.environ.get("RECORDINGS_S3_SECRET_KEY", "")
    RECORDINGS_S3_PREFIX = os.environ.get("RECORDINGS_S3_PREFIX", "recordings/")
    RECORDING_PRESET = os.environ.get("RECORDING_PRESET", "H264_720P_30")
    # 0 keeps recordings until someone deletes them; `flask recordings purge` applies it.
    RECORDING_RETENTION_DAYS = _env_int("RECORDING_RETENTION_DAYS", 90)
    RECORDING_URL_TTL_SECONDS = _env_int("RECORDING_URL_TTL_SECONDS", 300)  # S3 presigned URLs
    RECORDING_LINK_DAYS = _env_int("RECORDING_LINK_DAYS", 7)  # secret share links
    # With no egress worker, livekit-server v1.13.5 refuses a start ("unavailable") only after
    # 20-25 s here: this bound must be longer, or people get our timeout, not its reason.
    EGRESS_TIMEOUT_SECONDS = float(os.environ.get("EGRESS_TIMEOUT_SECONDS", "40"))

    # Served by WhiteNoise under /static/<hash of the tree>/ with a year of caching; the
    # pre-compressed .gz files next to them are written by `make` and the Docker build.
    STATIC_DIR = str(BASE_DIR / "static")
    # Look files up on every request and let the browser revalidate: edits show on reload.
    STATIC_AUTOREFRESH = False
    # Pages and API answers (Flask-Compress; static files come pre-compressed from WhiteNoise).
    # Brotli at a level cheap enough per request, gzip for the rest; the CSRF token in pages
    # is signed with a timestamp, so BREACH cannot read it out of compressed sizes.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_BR_LEVEL = 5
    COMPRESS_LEVEL = 6
    COMPRESS_MIMETYPES = ["text/html", "application/json"]

    REQUIRED_SETTINGS: tuple[str, ...] = ()
    SEND_HSTS = False


class DevelopmentConfig(Config):
    """`make run` on a laptop: plain http on loopback, keys from instance/dev.env."""

    MAIL_BODY_TO_LOG = True
    STATIC_AUTOREFRESH = True


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # Browsers that saw the site over HTTPS once refuse plain HTTP to it for a year.
    SEND_HSTS = True
    REQUIRED_SETTINGS = (
        "SECRET_KEY",
        "PUBLIC_URL",
        "LIVEKIT_URL",
        "LIVEKIT_API_KEY",
        "LIVEKIT_API_SECRET",
    )


class TestingConfig(Config):
    TESTING = True
    MAIL_IN_BACKGROUND = False  # tests read the outbox right after the request
    MAIL_BACKEND = "memory"
    PUBLIC_URL = "http://localhost"  # the test client's host
    MAIL_BODY_TO_LOG = True
    SECRET_KEY = "test-secret-key-that-is-long-enough-for-hmac"  # noqa: S105 (tests only)
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    LIVEKIT_URL = "http://127.0.0.1:1"
    LIVEKIT_PUBLIC_URL = "ws://127.0.0.1:1"
    LIVEKIT_API_KEY = "testkey"
    LIVEKIT_API_SECRET = "test-livekit-secret-at-least-32-characters"  # noqa: S105
    WEBHOOK_DERIVE = "in_request"
    # Most recording tests drive the Egress path with signed egress events; the built-in
    # recorder's tests set "builtin" (and the live ones start a real media worker).
    RECORDER = "egress"
    # Tests make and sign in thousands of accounts: scrypt at 1/32 of the cost (N=2^10). At full
    # cost hashing took over half of the unit tier's time. Checking is the same code either way.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}
