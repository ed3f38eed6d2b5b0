"""The notify plug-in: runs the outbox alongside the daemon and listens to the controller.

`ick.daemon.serve` imports this module, which registers itself in `ick.daemon.PLUGINS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Mapping

import aiohttp

from ick.api.app import Services
from ick.daemon.serve import PLUGINS
from ick.notify.outbox import Outbox
from ick.storage.notifications import NotificationStore

log = logging.getLogger(__name__)

# Test knob, not a setting: multiplies every retry delay (0.05 makes the first retry 0.5 s).
SCALE_VARIABLE = "ICK_NOTIFY_RETRY_SCALE"


def retry_scale(environ: Mapping[str, str]) -> float:
    text = environ.get(SCALE_VARIABLE)
    if not text:
        return 1.0
    try:
        scale = float(text)
    except ValueError:
        scale = -1.0
    if not 0 < scale <= 1:
        log.warning("ignoring %s=%r: expected a number above 0, at most 1", SCALE_VARIABLE, text)
        return 1.0
    return scale


@contextlib.asynccontextmanager
async def notify_plugin(svc: Services) -> AsyncIterator[None]:
    store = NotificationStore(svc.extra["db"])
    svc.extra["notifications"] = store  # GET /builds/{id} shows a build's notifications

    def base_url() -> str:
        return svc.settings.public_url or svc.extra.get("url") or svc.settings.url()

    def secret_value(project: str, name: str) -> bytes | None:
        # Looked up at each send: the delivery plug-in provides it, in whatever order we start.
        lookup = svc.extra.get("secrets")
        value = None if lookup is None else lookup(project, name)
        return value if isinstance(value, bytes) else None

    async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
        outbox = Outbox(store, svc.builds, svc.resources, svc.logs, svc.settings.smtp, session,
                        base_url, secret_value, retry_scale=retry_scale(os.environ))
        svc.controller.started_listeners.append(outbox.started)
        svc.controller.finished_listeners.append(outbox.finished)
        task = group.create_task(outbox.run_forever())
        try:
            yield
        finally:
            task.cancel()
            svc.controller.started_listeners.remove(outbox.started)
            svc.controller.finished_listeners.remove(outbox.finished)
    # Builds interrupted by the shutdown ended after the task stopped: write theirs now,
    # so they are sent after the restart.
    await outbox.drain()


PLUGINS.append(notify_plugin)
