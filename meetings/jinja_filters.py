"""Filters every template may use."""

from flask import Flask


def format_duration(seconds: float | None) -> str:
    """1:02:03 or 2:03; a dash when unknown."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_size(size: int | None) -> str:
    """1.5 MB; a dash when unknown."""
    if size is None:
        return "—"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def format_ledger_duration(seconds: int | float | None) -> str:
    """`1 h 05 min`, `4 min 10 s`, `12 s`; an em dash when unknown."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def init_app(app: Flask) -> None:
    app.add_template_filter(format_duration, "duration")
    app.add_template_filter(format_size, "filesize")
    app.add_template_filter(format_ledger_duration, "ledger_duration")
