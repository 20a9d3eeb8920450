"""Waiting for conditions instead of sleeping: bounded, and clear about what never happened."""

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# A backlog that shrinks is work in progress, however slow the machine: give up only when it
# has stopped shrinking for this long.
STALL_SECONDS = 30.0


def wait_for(
    predicate: Callable[[], Any],
    timeout: float = 15.0,
    interval: float = 0.2,
    *,
    what: str | Callable[[], str] | None = None,
    pause: Callable[[float], None] = time.sleep,
) -> Any:
    """Poll until `predicate` returns something truthy and return that; fail with a clear
    message if it never does. `what` names the condition (or, as a function, is called on
    failure to say how things stand: a log, a page's state), else the predicate's docstring
    does. `pause` waits between tries (a Playwright page's own wait keeps its events flowing)."""
    checks = _checks(predicate, timeout, what)
    while (result := next(checks)) is _NOT_YET:
        pause(interval)
    return result


async def wait_for_async(
    predicate: Callable[[], Any],
    timeout: float = 10.0,
    interval: float = 0.1,
    *,
    what: str | Callable[[], str] | None = None,
) -> Any:
    """`wait_for` inside an event loop: the loop keeps running (a LiveKit SDK room keeps
    receiving) while the condition is polled."""
    checks = _checks(predicate, timeout, what)
    while (result := next(checks)) is _NOT_YET:
        await asyncio.sleep(interval)
    return result


_NOT_YET = object()


def _checks(
    predicate: Callable[[], Any], timeout: float, what: str | Callable[[], str] | None
) -> Iterator[Any]:
    """Check `predicate` once per `next`: _NOT_YET until it holds, then its result; fails
    the test once `timeout` seconds have passed without it."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            yield result
            return
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s: {_name(predicate, what)}")
        yield _NOT_YET


def _name(predicate: Callable[[], Any], what: str | Callable[[], str] | None) -> str:
    """What never happened: `what` (called, if it is a function, to say how things stand),
    else the predicate's docstring."""
    if callable(what):
        return what()
    return what or predicate.__doc__ or repr(predicate)


def wait_until_drained(
    remaining: Callable[[], int],
    what: str,
    stall_seconds: float = STALL_SECONDS,
    interval: float = 0.1,
) -> float:
    """Wait until `remaining()` is 0, for as long as it keeps going down; returns the seconds
    it took. Fails when it has not gone down for `stall_seconds`, so the bound scales with the
    amount of work instead of being one fixed time for any backlog."""
    began = time.monotonic()
    best = remaining()
    progressed_at = began
    while best:
        time.sleep(interval)
        now_left = remaining()
        if now_left < best:
            best, progressed_at = now_left, time.monotonic()
        elif time.monotonic() - progressed_at > stall_seconds:
            raise AssertionError(
                f"{what}: {now_left} left, none done in the last {stall_seconds:.0f} s"
            )
    return time.monotonic() - began
