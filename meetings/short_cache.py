"""Answers from the media server kept for a few seconds, per process.

Some pages anyone may load ask LiveKit something (is it up, is the host in the room yet).
Without a cache, page loads would turn into API calls at whatever rate a stranger chooses.
"""

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")


def _clock() -> float:
    return time.monotonic()


class ShortCache:
    """`get(key, compute)`: the value computed for `key` less than `seconds` ago, or a new one."""

    def __init__(self, seconds: float, max_entries: int = 1024):
        self.seconds = seconds
        self.max_entries = max_entries
        self._values: dict[Hashable, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        now = _clock()
        with self._lock:
            found = self._values.get(key)
            if found is not None and now - found[0] < self.seconds:
                return found[1]
        value = compute()  # outside the lock: a slow server must not hold other keys
        with self._lock:
            if len(self._values) >= self.max_entries:
                self._values = {k: v for k, v in self._values.items() if now - v[0] < self.seconds}
            self._values[key] = (_clock(), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def cache_of(name: str, seconds: float) -> ShortCache:
    """The app's cache called `name` (each app has its own, as each has its own server)."""
    caches = current_app.extensions.setdefault("short_caches", {})
    return caches.setdefault(name, ShortCache(seconds))
