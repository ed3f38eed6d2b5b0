"""Background tasks that outlive their failures: a task that raises is logged with its
traceback and started again after a pause; it never ends the daemon."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

PAUSE = 5.0  # seconds before a failed background task starts again
MAX_PAUSE = 300.0  # a task that keeps failing is retried at most this far apart


async def supervised(name: str, start: Callable[[], Awaitable[None]], *,
                     pause: float = PAUSE, max_pause: float = MAX_PAUSE) -> None:
    """Run `start()` until it returns: when it raises, log it and run it again after a pause
    that doubles while it keeps failing (up to `max_pause`; a run that lasted longer than
    that starts the pause afresh). Cancelling this cancels the task."""
    loop = asyncio.get_running_loop()
    delay = pause
    last = ""  # the failure logged last, so one that repeats is not logged in full again
    while True:
        began = loop.time()
        try:
            await start()
            return
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if loop.time() - began > max_pause:
                delay = pause
            failure = f"{type(e).__name__}: {e}"
            if failure != last:
                log.exception("background task %s failed; starting it again in %.0f s",
                              name, delay)
            else:
                log.error("background task %s failed again (%s); starting it again in %.0f s",
                          name, failure, delay)
            last = failure
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_pause)
