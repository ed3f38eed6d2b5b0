"""The one way tests run the daemon in this process: `open_daemon` over a state directory in
the test's folder, every service and no HTTP server (hand `make_app(daemon)` to
aiohttp_client). Tests take the `services` fixture (tests/conftest.py); one that needs other
settings opens its own with `in_process`. A real `ick serve` is tests.daemon.Daemon."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ick.config import Settings
from ick.daemon import Daemon, open_daemon


@asynccontextmanager
async def in_process(state_dir: Path, **settings: Any) -> AsyncIterator[Daemon]:
    """The daemon's services over `state_dir`, with `settings` (default: no local workers),
    closed after."""
    async with open_daemon(Settings(state_dir=state_dir, **{"workers": 0, **settings})) as daemon:
        yield daemon


async def queue_one_build(daemon: Daemon) -> None:
    """Project `site` and its build 1, queued for good (no local worker takes it): what the
    tests of live log streams follow."""
    from ick.model import Project
    from tests.pipelines import checked

    await daemon.resources.put_pipeline(checked("ok", [], [{"shell": "true", "where": "host"}]))
    await daemon.resources.put_project(Project("site", {}, ["ok"]))
    await daemon.controller.trigger("site", {})


def admin_token(daemon: Daemon) -> str:
    """The admin token the daemon wrote in its state directory at its first start."""
    return (daemon.settings.state_dir / "admin.token").read_text().strip()
