"""The daemon plug-in for delivery: project secrets (kept, masked in logs, handed to local
workers) and ick's APT repository, served read-only at /apt/.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from ick.api.app import Services
from ick.daemon.secrets import SecretKeeper
from ick.daemon.serve import PLUGINS
from ick.storage.secrets import SecretStore


def add_apt_routes(app: web.Application, www: Path) -> None:
    # No index pages and no symlinks followed: only the files reprepro and ick put there.
    app.router.add_static("/apt/", www, follow_symlinks=False, show_index=False)


@contextlib.asynccontextmanager
async def delivery(svc: Services) -> AsyncIterator[None]:
    state = svc.settings.state_dir
    keeper = SecretKeeper(SecretStore(state / "secrets"), svc.controller)
    svc.extra["secret_keeper"] = keeper
    # For other plug-ins (webhook signing, local workers): (project, name) -> bytes | None.
    svc.extra["secrets"] = keeper.value
    svc.controller.started_listeners.append(keeper.build_started)
    www = state / "apt" / "www"
    www.mkdir(parents=True, exist_ok=True)
    svc.extra.setdefault("route_adders", []).append(lambda app: add_apt_routes(app, www))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            svc.controller.started_listeners.remove(keeper.build_started)


PLUGINS.append(delivery)
