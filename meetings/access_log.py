"""gunicorn's access log without the secrets some URLs carry.

Reset, confirmation and invite links, calendar feeds and recording share links hold their
credential in the URL (mail and calendar apps need it there). The access log keeps the route
and drops the token, so whoever reads logs cannot use them.
"""

import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
SECRET_IN_PATH = re.compile(
    r"(?P<route>/auth/reset/|/auth/verify/|/calendar/|/recordings/shared/)[^/?#\s.]+"
)
SECRET_IN_QUERY = re.compile(r"(?P<name>(?:^|[?&])(?:invite|token)=)[^&#\s]*")


def redact(text: str | None) -> str | None:
    """`text` (a path, a query, a request line, a referer) without the secrets in it."""
    if not text:
        return text
    text = SECRET_IN_PATH.sub(lambda m: m.group("route") + REDACTED, text)
    return SECRET_IN_QUERY.sub(lambda m: m.group("name") + REDACTED, text)


class RedactingLogger(Logger):
    """The standard access log, with secrets taken out of every field that shows a URL."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "q", "f", "{referer}i", "{raw_uri}e", "{path_info}e"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms
