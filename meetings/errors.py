"""Error answers: JSON `{"error": {"code", "message"}}` for the API, pages for people.

An error that blames fields names the first in `field` (and `message`) and all of them in
`errors`, so a client can mark every bad field at once.
"""

from typing import NamedTuple

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

JSON_PREFIXES = ("/api/", "/livekit/", "/healthz")


class FieldError(NamedTuple):
    """One field to blame, and what is wrong with it (`field` None: the body as a whole)."""

    field: str | None
    message: str


class ApiError(Exception):
    """An API failure with a stable machine-readable code and a message for people."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        retry_after: int | None = None,
        errors: list[FieldError] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after  # seconds, sent as Retry-After
        # Every field to blame; one error names one field.
        self.errors = errors if errors else ([FieldError(field, message)] if field else [])


def json_error(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    retry_after: int | None = None,
    errors: list[FieldError] | None = None,
) -> Response:
    error: dict = {"code": code, "message": message}
    if field:
        error["field"] = field
    if errors:
        error["errors"] = [{"field": each.field, "message": each.message} for each in errors]
    response = jsonify({"error": error})
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def plain_message(status: int, stock: str) -> str:
    """What happened, for an error nothing in the app explained (an address nobody serves)."""
    if status == 404:
        where = "endpoint" if wants_json() else "page"
        return f"There is no {where} at {request.path}. Check the address for a typo."
    if status == 405:
        return f"{request.path} does not take {request.method} requests."
    return stock


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        return json_error(
            error.status, error.code, error.message, error.field, error.retry_after, error.errors
        )

    @app.errorhandler(SecurityError)
    def handle_untrusted_host(_error: SecurityError):
        # A Host (or X-Forwarded-Host) we do not serve: answer nothing but that, with no page
        # and no link that could carry the forged host.
        return Response("Unknown host.\n", 400, mimetype="text/plain")

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        message = "The form expired or was sent from elsewhere. Reload the page and try again."
        if wants_json():
            return json_error(400, "csrf_failed", error.description)
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        status = error.code or 500
        message = error.description or error.name
        if message == type(error).description:  # Werkzeug's own words: say it in ours
            message = plain_message(status, message)
        if wants_json():
            return json_error(status, code, message)
        if status == 429:
            message = "Too many attempts. Wait a minute, then try again."
        page = render_template("errors/error.html", status=status, message=message)
        return page, status

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        if app.testing:
            raise error  # tests see the real traceback, not a polite page
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "internal_error", "Something went wrong on our side.")
        message = InternalServerError.description
        return render_template("errors/error.html", status=500, message=message), 500
