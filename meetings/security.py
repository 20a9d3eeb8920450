"""Who is asking: session logins, API bearer tokens, and the headers every answer carries."""

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g

from meetings.extensions import login_manager


def init_app(app: Flask) -> None:
    from meetings.auth import loaders  # noqa: F401  (registers the user loaders)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.after_request(add_security_headers)


def livekit_origins() -> str:
    """The LiveKit origins the browser may connect to (WebSocket and its HTTP fallback)."""
    parts = urlsplit(current_app.config["LIVEKIT_PUBLIC_URL"])
    if not parts.netloc:
        return ""
    secure = parts.scheme in ("wss", "https")
    ws, http = ("wss", "https") if secure else ("ws", "http")
    return f"{ws}://{parts.netloc} {http}://{parts.netloc}"


def media_origins() -> str:
    """Extra origins a page plays media from (a recording's bucket), set by its view in g."""
    return "".join(f" {origin}" for origin in g.get("media_origins", ()))


def script_sources() -> str:
    """'self', and on the meeting page (the view sets g.runs_wasm) what WebAssembly needs: the
    background effects compile MediaPipe's WASM. Not 'unsafe-eval': JavaScript stays as strict."""
    return "'self' 'wasm-unsafe-eval'" if g.get("runs_wasm") else "'self'"


def add_security_headers(response: Response) -> Response:
    csp = (
        f"default-src 'self'; script-src {script_sources()}; style-src 'self'; "
        f"img-src 'self' data: blob:; media-src 'self' blob:{media_origins()}; "
        f"connect-src 'self' {livekit_origins()}; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config["SEND_HSTS"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    response.headers.setdefault(
        "Permissions-Policy",
        "camera=(self), microphone=(self), display-capture=(self), geolocation=()",
    )
    return response
