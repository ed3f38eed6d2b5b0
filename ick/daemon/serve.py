"""`ick serve`: opens the state, recovers from a crash, runs the API and the local workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from ick.api.app import Services, make_app
from ick.api.auth import TokenKeeper
from ick.api.work import drop_silent_workers
from ick.config import Settings
from ick.daemon.memory import trim, trim_when_idle
from ick.runners.base import HostSettings
from ick.scheduler.driver import Controller
from ick.storage.builds import BuildStore
from ick.storage.db import Database
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from ick.storage.tokens import TokenStore
from ick.upkeep.tasks import Upkeep
from ick.worker.leftovers import kill_leftovers
from ick.worker.rundir import run_root
from ick.worker.worker import Worker
from ick.worker.workspaces import Workspaces

log = logging.getLogger(__name__)

# Modules that add to the daemon (artifacts, notifications, apt...) register a plug-in here:
# called with the services once they exist; may add routes via services.extra["route_adders"]
# and return an async context manager that runs alongside the daemon.
Plugin = Callable[[Services], contextlib.AbstractAsyncContextManager[None]]
PLUGINS: list[Plugin] = []

import ick.daemon.delivery  # noqa: E402, F401  (registers its plug-in; needs PLUGINS defined)
import ick.daemon.host  # noqa: E402, F401  (registers its plug-in; needs PLUGINS defined)
import ick.daemon.notify  # noqa: E402, F401  (registers its plug-in; needs PLUGINS defined)


def prepare_state_dir(state_dir: Path) -> None:
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for sub in ("logs", "artifacts", "workspaces", "systrees", "apt", "run", "git"):
        (state_dir / sub).mkdir(exist_ok=True)


def reuse_key(state_dir: Path) -> bytes:
    """STATE/token.key (0600), made on first start: reusable tokens are derived from it."""
    path = state_dir / "token.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
    return path.read_bytes()


async def write_admin_token(state_dir: Path, tokens: TokenKeeper) -> None:
    """On first start, mint an admin token and write it to STATE/admin.token (0600)."""
    path = state_dir / "admin.token"
    if path.exists():
        return
    token, _ = await tokens.create("admin", ["admin"])
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
    log.info("wrote a new admin token to %s", path)


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Open the database and build the controller; close everything on the way out."""
    state = settings.state_dir
    prepare_state_dir(state)
    db = await Database.open(state / "ick.db")
    try:
        tokens = TokenKeeper(TokenStore(db), reuse_key=reuse_key(state))
        await tokens.load()
        await write_admin_token(state, tokens)
        logs = LogStore(state / "logs")
        resources = ResourceStore(db)
        builds = BuildStore(db)
        controller = Controller(builds, resources, logs)
        svc = Services(settings=settings, resources=resources, builds=builds, logs=logs,
                       controller=controller, tokens=tokens)
        svc.extra["db"] = db
        yield svc
        logs.close_all()
    finally:
        await db.close()


def use_pidfd_watcher(loop: asyncio.AbstractEventLoop) -> None:
    """Reap children through pidfds: Python 3.11 otherwise starts a thread per child."""
    if sys.version_info < (3, 12) and hasattr(os, "pidfd_open"):
        watcher = asyncio.PidfdChildWatcher()
        watcher.attach_loop(loop)
        asyncio.set_child_watcher(watcher)


async def serve(settings: Settings, ready: Callable[[str], None] | None = None) -> None:
    """Run until SIGTERM or SIGINT; running builds end as interrupted."""
    loop = asyncio.get_running_loop()
    use_pidfd_watcher(loop)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with open_services(settings) as svc, contextlib.AsyncExitStack() as plugins:
        for plugin in PLUGINS:
            await plugins.enter_async_context(plugin(svc))
        controller = svc.controller
        interrupted = await controller.recover()
        if interrupted:
            killed = kill_leftovers(interrupted, settings.state_dir)
            log.warning("killed %d leftover processes of interrupted builds", killed)
        upkeep = Upkeep(settings=settings, db=svc.extra["db"], resources=svc.resources,
                        builds=svc.builds, logs=svc.logs, controller=controller,
                        artifacts=svc.extra.get("artifacts"), systrees=svc.extra.get("systrees"))
        svc.extra["pruner"] = upkeep.pruner  # POST /prune
        app = make_app(svc)
        # Long polls and log followers are cut after a short grace when the daemon stops.
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await runner.setup()
        host, port = settings.host_port
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        url = f"http://{host}:{bound}"
        svc.extra["url"] = url  # the daemon's own address, e.g. for links when public_url is unset
        log.info("ick listening on %s, state in %s, %d workers", url, settings.state_dir,
                 settings.workers)
        host_settings = HostSettings(state_dir=settings.state_dir,
                                     debian_mirror=settings.debian_mirror,
                                     run_root=run_root(settings.state_dir))
        workspaces = Workspaces(settings.state_dir / "workspaces")
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(workspaces.run())
                group.create_task(upkeep.run())
                group.create_task(drop_silent_workers(controller))
                group.create_task(trim_when_idle(controller.busy, controller.activity))
                workers = [
                    group.create_task(
                        Worker(controller, f"local{i}", host_settings,
                               svc.extra.get("worker_services"),
                               workspaces).run()
                    )
                    for i in range(settings.workers)
                ]
                trim()  # start-up's garbage: imports, migrations
                if ready is not None:
                    ready(url)
                await stop.wait()
                log.info("stopping: interrupting running builds")
                await controller.shutdown()
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                raise _Stop()
        except* _Stop:
            pass
        finally:
            await runner.cleanup()
    log.info("ick stopped")


class _Stop(Exception):
    """Ends the daemon's task group once the workers are done."""
