"""The one way the tests wait for state: poll, bounded in time, and fail saying what was seen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class TimedOut(AssertionError):
    """The awaited state did not come in time."""


def poll(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float,
         fail: Callable[[T], str], interval: float = 0.05) -> T:
    """Call `fetch` until `done` holds for its value (returned); past `timeout` seconds
    raise TimedOut with `fail(last value)`."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise TimedOut(fail(value))
        time.sleep(interval)


async def apoll(fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float,
                fail: Callable[[T], str], interval: float = 0.02) -> T:
    """`poll` for a coroutine's value, sleeping without blocking the loop."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise TimedOut(fail(value))
        await asyncio.sleep(interval)


def wait_for(test: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Poll until `test()` is true; `what` names the state in the failure."""
    poll(test, bool, timeout, lambda _: f"still not {what} after {timeout} s")
