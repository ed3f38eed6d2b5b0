"""`ick serve`: binds the port, opens the daemon (ick.daemon), recovers from a crash, then runs
the API, the local workers and the background tasks in one task group until SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable

from aiohttp import web

from ick.api.app import make_app
from ick.config import Settings
from ick.daemon import Daemon, open_daemon
from ick.daemon.memory import trim, trim_when_idle
from ick.daemon.supervise import supervised
from ick.worker.leftovers import kill_leftovers

log = logging.getLogger(__name__)


def use_pidfd_watcher(loop: asyncio.AbstractEventLoop) -> None:
    """Reap children through pidfds: Python 3.11 otherwise starts a thread per child."""
    if sys.version_info < (3, 12) and hasattr(os, "pidfd_open"):
        watcher = asyncio.PidfdChildWatcher()
        watcher.attach_loop(loop)
        asyncio.set_child_watcher(watcher)


def bind(settings: Settings) -> socket.socket:
    """The listening socket, bound before any state is touched: a busy port changes nothing."""
    host, port = settings.host_port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise OSError(e.errno, f"error while attempting to bind on address {(host, port)!r}: "
                      f"{(e.strerror or str(e)).lower()}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(settings: Settings, ready: Callable[[str], None] | None = None) -> None:
    """Run until SIGTERM or SIGINT; running builds end as interrupted."""
    loop = asyncio.get_running_loop()
    use_pidfd_watcher(loop)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    listener = bind(settings)
    async with open_daemon(settings, listener) as daemon:
        await run(daemon, listener, stop, ready)
    log.info("ick stopped")


async def run(daemon: Daemon, listener: socket.socket, stop: asyncio.Event,
              ready: Callable[[str], None] | None) -> None:
    controller = daemon.controller
    interrupted = await controller.recover()
    if interrupted:
        killed = kill_leftovers(interrupted, daemon.settings.state_dir)
        log.warning("killed %d leftover processes of interrupted builds", killed)
    # Long polls and log followers are cut after a short grace when the daemon stops.
    runner = web.AppRunner(make_app(daemon), access_log=None, handle_signals=False,
                           shutdown_timeout=2.0)
    await runner.setup()
    try:
        await web.SockSite(runner, listener).start()
        log.info("ick listening on %s, state in %s, %d workers", daemon.url,
                 daemon.settings.state_dir, daemon.settings.workers)
        async with asyncio.TaskGroup() as group:
            # A background task that fails is logged and started again: it must never end
            # the daemon (the task group would stop everything with it).
            background = [
                group.create_task(supervised("outbox", daemon.outbox.run_forever)),
                group.create_task(supervised("workspace cleaner", daemon.workspaces.run)),
                group.create_task(supervised("lease sweep", controller.sweep_leases)),
                group.create_task(supervised("memory trim", lambda: trim_when_idle(
                    controller.busy, controller.activity))),
                group.create_task(supervised("upkeep", daemon.upkeep.run)),
            ]
            workers = [group.create_task(worker.run()) for worker in daemon.workers]
            trim()  # start-up's garbage: imports, migrations
            if ready is not None:
                ready(daemon.url)
            await stop.wait()
            log.info("stopping: interrupting running builds")
            await controller.shutdown()
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            for task in background:
                task.cancel()
        # Builds interrupted by the shutdown ended after the outbox stopped: write theirs now,
        # so they are sent after the restart.
        await daemon.outbox.drain()
    finally:
        await runner.cleanup()
