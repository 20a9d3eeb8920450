"""Start-up refusals operators see, and the operator CLI."""

import pytest

from config import ProductionConfig, TestingConfig
from meetings import ConfigurationError, create_app
from meetings.environment import environment_name
from meetings.extensions import db
from meetings.models import ApiToken, Role, User, hash_api_token

GOOD = {
    "SECRET_KEY": "s" * 40,
    "PUBLIC_URL": "https://meet.example.com",
    "LIVEKIT_URL": "https://livekit.example.com",
    "LIVEKIT_API_KEY": "key",
    "LIVEKIT_API_SECRET": "x" * 40,
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
}


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "PUBLIC_URL", "LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"]
)
def test_production_refuses_to_start_without_a_setting(missing):
    with pytest.raises(ConfigurationError, match=f"^{missing} is not set"):
        create_app(ProductionConfig, {**GOOD, missing: ""})


def test_production_refuses_a_short_secret_key():
    with pytest.raises(ConfigurationError, match="SECRET_KEY is too short"):
        create_app(ProductionConfig, {**GOOD, "SECRET_KEY": "dev"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", TestingConfig.SECRET_KEY),
        ("LIVEKIT_API_SECRET", TestingConfig.LIVEKIT_API_SECRET),
    ],
)
def test_production_refuses_secrets_published_with_the_code(name, value):
    with pytest.raises(ConfigurationError, match=f"^{name} is a development or test value"):
        create_app(ProductionConfig, {**GOOD, name: value})


@pytest.mark.parametrize("url", ["meet.example.com", "ftp://meet.example.com", "https://x.org/app"])
def test_production_refuses_a_public_url_that_is_not_an_address(url):
    with pytest.raises(ConfigurationError, match=r"^PUBLIC_URL must be"):
        create_app(ProductionConfig, {**GOOD, "PUBLIC_URL": url})


def test_production_starts_with_everything_set_and_secure_cookies():
    app = create_app(ProductionConfig, GOOD)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_production_answers_with_hsts_and_only_for_its_own_host():
    # No deriver thread: this app has no tables and no webhooks to derive.
    app = create_app(ProductionConfig, {**GOOD, "WEBHOOK_DERIVE": "in_request"})
    client = app.test_client()
    answer = client.get("/auth/login", base_url="https://meet.example.com")
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    forged = client.get("/auth/login", base_url="https://evil.example")
    assert forged.status_code == 400
    assert forged.get_data(as_text=True) == "Unknown host.\n"


@pytest.mark.parametrize(
    ("env", "dev_env_file", "expected"),
    [
        ({}, False, "production"),  # a server that says nothing gets the strict settings
        ({}, True, "development"),  # a checkout `make run` set up
        ({"MEETINGS_ENV": "testing"}, True, "testing"),
    ],
)
def test_the_environment_is_production_unless_said_or_set_up_by_make_run(
    env, dev_env_file, expected, tmp_path, monkeypatch
):
    monkeypatch.delenv("MEETINGS_ENV", raising=False)
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if dev_env_file:
        (tmp_path / "dev.env").write_text("SECRET_KEY=x\n")
    assert environment_name() == expected


def test_cli_creates_an_ops_user_and_a_token_that_authenticates(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Op@Example.com",
            "--name",
            "Olga",
            "--password",
            "long-enough-pw",
            "--role",
            "ops",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User))
    assert (user.email, user.display_name, user.role) == ("op@example.com", "Olga", Role.OPS)

    result = runner.invoke(args=["users", "token", "op@example.com"])
    token = result.output.strip()
    assert result.exit_code == 0
    stored = db.session.scalar(db.select(ApiToken))
    assert stored.token_hash == hash_api_token(token)
    assert token not in stored.token_hash
    response = client.get(
        "/api/v1/meetings/none-none-none", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 404  # authenticated, and the meeting does not exist


def test_cli_refuses_duplicates_and_short_passwords(app, make_user):
    make_user(email="taken@example.com")
    runner = app.test_cli_runner()
    dup = runner.invoke(
        args=["users", "create", "taken@example.com", "--name", "X", "--password", "long-enough-pw"]
    )
    assert dup.exit_code != 0
    assert "exists already" in dup.output
    short = runner.invoke(
        args=["users", "create", "new@example.com", "--name", "X", "--password", "short"]
    )
    assert short.exit_code != 0
    assert "at least 10 characters" in short.output
    unknown = runner.invoke(args=["users", "token", "nobody@example.com"])
    assert unknown.exit_code != 0
    assert "no account" in unknown.output
