"""CSV downloads that stay data when a spreadsheet opens them.

Names and labels come from users; a cell that starts with = + - @ (or a tab or carriage
return, which some spreadsheets skip before looking) would run as a formula. Every CSV the
app offers is written here, so one guard covers them all.
"""

import csv
import io
from collections.abc import Iterable, Mapping

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """`value`, with text that a spreadsheet would read as a formula made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(columns: Iterable[str], rows: Iterable[Mapping]) -> str:
    """A CSV document with a header row; every cell goes through `safe_cell`."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns))
    writer.writeheader()
    for row in rows:
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return out.getvalue()


def csv_download(body: str, filename: str):
    """The response that makes the browser save `body` as `filename`."""
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
