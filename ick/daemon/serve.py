"""`ick serve`: binds the port, opens the daemon (ick.daemon), recovers from a crash, then runs
the API, the local workers and the background tasks in one task group until SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import socket
import sys
from collections.abc import Callable

from aiohttp import web

from ick.api.app import make_app
from ick.config import Settings
from ick.daemon import Daemon, open_daemon
from ick.daemon.connections import IDLE_TIMEOUT, AcceptFailures, ConnectionGuard, track_requests
from ick.daemon.memory import trim, trim_when_idle
from ick.daemon.supervise import supervised
from ick.worker.leftovers import kill_leftovers

log = logging.getLogger(__name__)

FD_LIMIT = 65536  # the most file descriptors the daemon asks for (as scripts/ick.service)
# asyncio accepts up to this many connections at a time (create_server's backlog) before
# the guard sees any of them, so as many descriptors again must be free beyond the limit.
ACCEPT_BURST = 100


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


def raise_fd_limit() -> int:
    """Raise the soft limit of open files to the hard one (at most FD_LIMIT): systemd's soft
    default of 1024 runs out under load. Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return FD_LIMIT  # as good as unlimited
    target = FD_LIMIT if hard == resource.RLIM_INFINITY else min(hard, FD_LIMIT)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError) as e:
            log.warning("cannot raise the limit of open files from %d: %s", soft, e)
    return soft


def connection_limit(settings: Settings, fd_limit: int) -> int:
    """max_connections, or fewer when the file descriptors are few: at most half of them, and
    room left for a burst of accepts, the database, the logs and the builds' processes, so
    that accept() is what fails last, if anything does."""
    most = max(16, min(fd_limit // 2, fd_limit - 2 * ACCEPT_BURST))
    if settings.max_connections > most:
        log.warning("max_connections: %d, not %d: this process may open only %d files",
                    most, settings.max_connections, fd_limit)
        return most
    return settings.max_connections


async def serve(settings: Settings, ready: Callable[[str], None] | None = None) -> None:
    """Run until SIGTERM or SIGINT; running builds end as interrupted."""
    loop = asyncio.get_running_loop()
    use_pidfd_watcher(loop)
    loop.set_exception_handler(AcceptFailures())
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
    await daemon.gate.recover()  # before any worker takes a candidate
    await daemon.deployments.recover()  # after the runs it knew of were recovered
    if interrupted:
        killed = kill_leftovers(interrupted, daemon.settings.state_dir)
        log.warning("killed %d leftover processes of interrupted builds", killed)
    settings = daemon.settings
    guard = ConnectionGuard(connection_limit(settings, raise_fd_limit()), settings.header_timeout)
    app = make_app(daemon)
    app.middlewares.insert(0, track_requests)  # the guard's view of each request
    # Long polls and log followers are cut after a short grace when the daemon stops.
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0,
                           keepalive_timeout=IDLE_TIMEOUT)
    await runner.setup()
    assert runner.server is not None
    loop = asyncio.get_running_loop()
    server = await loop.create_server(guard.factory(runner.server, loop), sock=listener,
                                      backlog=ACCEPT_BURST)
    try:
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
                group.create_task(supervised("gate", daemon.gate.run_forever)),
                group.create_task(supervised("deployments", daemon.deployments.run)),
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
        server.close()
        await runner.cleanup()
