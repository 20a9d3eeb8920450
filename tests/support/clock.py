"""A wall clock a test moves by hand, for limits counted in seconds (no real-clock sleeps)."""

import time

import pytest

from meetings import short_cache


class ManualClock:
    """Stands in for `time.time`: it stands still until the test advances it."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def manual_clock(monkeypatch) -> ManualClock:
    """`time.time` held still for the test: rate-limit windows and the app's short caches
    move only with `advance`."""
    clock = ManualClock()
    monkeypatch.setattr(time, "time", clock.time)
    monkeypatch.setattr(short_cache, "_clock", clock.time)
    return clock
