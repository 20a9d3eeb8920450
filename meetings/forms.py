"""Helpers shared by the Flask-WTF forms of every feature."""


def strip(value: str | None) -> str | None:
    """Trim spaces; a field that was not sent (None, on GET) stays None."""
    return value.strip() if isinstance(value, str) else value


def lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value
