"""Helpers shared by the Flask-WTF forms of every feature."""

from wtforms.validators import Length


def at_most(limit: int) -> Length:
    """A length limit that says so: longer input is refused with its length, never cut."""
    return Length(max=limit, message=f"Use at most {limit} characters; this has %(length)d.")


def strip(value: str | None) -> str | None:
    """Trim spaces; a field that was not sent (None, on GET) stays None."""
    return value.strip() if isinstance(value, str) else value


def lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value
