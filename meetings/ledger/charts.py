"""Geometry for the server-drawn pictures: the attendance timeline and the usage bars.

The pictures are inline SVG stretched to their box (`preserveAspectRatio="none"`), so they
need neither a charting library nor inline styles (the CSP allows neither). Text stays in
HTML around them, where it wraps and scales like the rest of the page.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from meetings.ledger.history import Person

VIEW_WIDTH = 1000  # SVG user units across the whole meeting
MIN_BAR = 3  # a visit of a few seconds stays visible
TICK_PERCENTS = (0, 25, 50, 75, 100)  # static/css/ledger.css has a class for each


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    joined_at: datetime
    left_at: datetime | None  # None: still in the room
    seconds: int | None


@dataclass(frozen=True)
class TimelineRow:
    person: Person
    bars: list[Bar]


@dataclass(frozen=True)
class Tick:
    percent: int
    at: datetime


@dataclass(frozen=True)
class Timeline:
    start: datetime
    end: datetime
    rows: list[TimelineRow]
    ticks: list[Tick]
    width: int = VIEW_WIDTH


def timeline(
    people: Sequence[Person], start: datetime | None, end: datetime | None, now: datetime
) -> Timeline | None:
    """One row per person, one bar per interval, across [start, end] of the occurrence
    (the first join to the last leave when the room's own times are unknown)."""
    joins = [i.joined_at for p in people for i in p.intervals if i.joined_at]
    if not joins:
        return None
    start = min([start, *joins]) if start else min(joins)
    leaves = [i.left_at or now for p in people for i in p.intervals]
    end = max([end, *leaves]) if end else max(leaves)
    span = max((end - start).total_seconds(), 1.0)

    def x_of(moment: datetime) -> float:
        return round((moment - start).total_seconds() / span * VIEW_WIDTH, 2)

    rows = []
    for person in people:
        bars = []
        for interval in person.intervals:
            if interval.joined_at is None:
                continue
            x = x_of(interval.joined_at)
            width = max(x_of(interval.left_at or now) - x, MIN_BAR)
            x = min(x, VIEW_WIDTH - MIN_BAR)
            bars.append(
                Bar(x, round(width, 2), interval.joined_at, interval.left_at, interval.seconds)
            )
        rows.append(TimelineRow(person, bars))
    ticks = [Tick(percent, start + (end - start) * percent / 100) for percent in TICK_PERCENTS]
    return Timeline(start, end, rows, ticks)


@dataclass(frozen=True)
class Column:
    start: date
    value: float
    height: float  # 0..100 of the chart's height
    month: str | None  # under the day number where a month begins, and under the first


def columns(values: Sequence[tuple[date, float]]) -> list[Column]:
    """Bars scaled so that the largest value fills the chart."""
    top = max((value for _start, value in values), default=0) or 1
    result, previous = [], None
    for start, value in values:
        month = start.strftime("%b") if previous is None or start.month != previous else None
        result.append(Column(start, value, round(value / top * 100, 2), month))
        previous = start.month
    return result
