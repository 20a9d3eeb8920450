"""Absolute links, always on the configured PUBLIC_URL.

A link in a mail, a calendar file or an API answer must never take its host from the request:
a forged `Host` or `X-Forwarded-Host` would otherwise mail a victim a genuine reset link that
points at the attacker. Every absolute link goes through `public_url`.
"""

from urllib.parse import urlsplit

from flask import Flask, current_app


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` under PUBLIC_URL, in a request or outside one (a mail
    sent by a command or a background thread)."""
    parts = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(parts.netloc, url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


def public_host(app: Flask) -> str:
    """The host (with port, if any) that PUBLIC_URL names."""
    return urlsplit(app.config["PUBLIC_URL"]).netloc


def init_app(app: Flask) -> None:
    """Answer only for the hosts we serve (400 otherwise) and give templates `public_url`."""
    extra = [host.strip() for host in app.config.get("EXTRA_TRUSTED_HOSTS", ()) if host.strip()]
    if app.config.get("PUBLIC_URL") and not app.config.get("TRUSTED_HOSTS"):
        hostname = urlsplit(app.config["PUBLIC_URL"]).hostname or ""
        app.config["TRUSTED_HOSTS"] = [hostname, *extra]
    app.jinja_env.globals["public_url"] = public_url
