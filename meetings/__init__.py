"""The meetings control plane: a Flask app that schedules meetings and runs them on LiveKit."""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from meetings.extensions import compress, csrf, db, limiter, login_manager, migrate

# Secret keys that ship in this repository (tests, examples): never good in production.
KNOWN_DEVELOPMENT_SECRETS = frozenset(
    {
        "test-secret-key-that-is-long-enough-for-hmac",
        "app-process-secret-key-for-tests-0123456789",
        "test-livekit-secret-at-least-32-characters",
        "secret",
        "devsecret",
        "change-me",
    }
)


class ConfigurationError(RuntimeError):
    """A required setting is missing; the message names it."""


def create_app(config_class: type, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, static files, extensions, blueprints, error pages, CLI.

    No I/O but one read of static/ for its build id (the hash in every static URL).
    """
    # The static route is added by register_static_files, under a versioned prefix.
    app = Flask(__name__, template_folder="../templates", static_folder=None)
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    register_static_files(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_cli(app)
    validate_config(app)
    return app


def register_static_files(app: Flask) -> None:
    # The one step that reads files: the build id is a hash of static/, made once here so
    # every worker (and every host of a deploy) derives the same URLs from the same files.
    from meetings import static_files

    static_files.init_app(app)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_project_path(app, "migrations")))
    login_manager.init_app(app)
    csrf.init_app(app)
    compress.init_app(app)
    from meetings import rate_limits  # noqa: F401  (registers the database:// storage)

    limiter.init_app(app)
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sa.event.listen(db.engine, "connect", _tune_sqlite)

    from meetings import after_commit, jinja_filters, links, security

    after_commit.init_app(app)
    jinja_filters.init_app(app)
    links.init_app(app)
    security.init_app(app)


def register_blueprints(app: Flask) -> None:
    from meetings.account import bp as account_bp
    from meetings.api import bp as api_bp
    from meetings.auth import bp as auth_bp
    from meetings.calendar import bp as calendar_bp
    from meetings.captions import bp as captions_bp
    from meetings.health import bp as health_bp
    from meetings.ledger import bp as ledger_bp
    from meetings.moderation import bp as moderation_bp
    from meetings.ops import bp as ops_bp
    from meetings.recordings import bp as recordings_bp
    from meetings.rooms import bp as rooms_bp
    from meetings.scheduling import bp as scheduling_bp
    from meetings.streaming import bp as streaming_bp
    from meetings.transcripts import bp as transcripts_bp
    from meetings.webhooks import bp as webhooks_bp

    # The features first: importing them adds their endpoints to the API's blueprint,
    # which is registered after them.
    blueprints = (
        auth_bp,
        account_bp,
        scheduling_bp,
        calendar_bp,
        rooms_bp,
        ops_bp,
        moderation_bp,
        ledger_bp,
        recordings_bp,
        transcripts_bp,
        captions_bp,
        streaming_bp,
        webhooks_bp,
        api_bp,
    )
    for blueprint in (*blueprints, health_bp):
        app.register_blueprint(blueprint)


def register_error_handlers(app: Flask) -> None:
    from meetings import errors

    errors.init_app(app)


def register_cli(app: Flask) -> None:
    from meetings.cli import users_cli
    from meetings.ledger.cli import livekit_cli
    from meetings.recordings.cli import recordings_cli
    from meetings.streaming.cli import streams_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(livekit_cli)
    app.cli.add_command(recordings_cli)
    app.cli.add_command(streams_cli)


def validate_config(app: Flask) -> None:
    """Refuse to start without the settings production needs.

    Raises:
        ConfigurationError: naming the first missing setting.
    """
    for name in app.config.get("REQUIRED_SETTINGS", ()):
        if not app.config.get(name):
            raise ConfigurationError(f"{name} is not set: export {name}=... before starting")
    if app.config["WEBHOOK_DERIVE"] not in ("background", "in_request"):
        raise ConfigurationError("WEBHOOK_DERIVE must be 'background' or 'in_request'")
    if app.config["RECORDER"] not in ("builtin", "egress"):
        raise ConfigurationError("RECORDER must be 'builtin' or 'egress'")
    required = app.config.get("REQUIRED_SETTINGS", ())
    if "SECRET_KEY" in required:
        _check_production_secrets(app)
    if app.config.get("PUBLIC_URL"):
        _check_public_url(app.config["PUBLIC_URL"])


def _check_production_secrets(app: Flask) -> None:
    if len(app.config["SECRET_KEY"]) < 32:
        raise ConfigurationError("SECRET_KEY is too short: use at least 32 random characters")
    for name in ("SECRET_KEY", "LIVEKIT_API_SECRET"):
        if app.config.get(name) in KNOWN_DEVELOPMENT_SECRETS:
            raise ConfigurationError(
                f"{name} is a development or test value published with the code: "
                "generate a new one (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )


def _check_public_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigurationError(
            f"PUBLIC_URL must be the service's address, like https://meet.example.com (got {url!r})"
        )


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets readers run beside the one writer; busy_timeout makes concurrent webhook
    # writes wait for the lock instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _project_path(app: Flask, name: str) -> Path:
    return Path(app.root_path).parent / name
