"""Giving memory back to the system once a burst of builds is over."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import gc
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

QUIET = 5.0  # seconds with nothing queued or running before memory is trimmed


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, looked up once: find_library runs ldconfig and makes temporary
    files, which must not happen again at every trim (nor fail when descriptors run out)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None  # not glibc
    return trim


def trim() -> None:
    """Collect garbage and hand free heap pages back (glibc keeps them otherwise)."""
    gc.collect()
    malloc_trim = _malloc_trim()
    if malloc_trim is not None:
        malloc_trim(0)


async def trim_when_idle(busy: Callable[[], bool], activity: Callable[[], int]) -> None:
    """Forever: after a burst of work (`activity` changed), once `busy` is false for QUIET s.

    The first quiet spell after start-up counts as one too: starting leaves garbage behind.
    """
    trimmed_at = -1
    while True:
        await asyncio.sleep(QUIET)
        if not busy() and activity() != trimmed_at:
            trimmed_at = activity()
            trim()
            log.debug("trimmed memory after builds up to %d", trimmed_at)
