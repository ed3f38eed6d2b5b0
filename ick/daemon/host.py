"""The daemon plug-in for artifacts and containers: opens the artifact store and the systree
cache, gives them to the API and the local workers, and prepares the host for systemd-nspawn.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from ick.api.app import Services
from ick.daemon.serve import PLUGINS
from ick.runners.mounts import fstype_at, mount
from ick.storage.artifacts import ArtifactStore
from ick.worker.services import WorkerServices
from ick.worker.systrees import SystreeCache

log = logging.getLogger(__name__)

NSPAWN_RUN = Path("/run/systemd/nspawn")


def prepare_nspawn(path: Path = NSPAWN_RUN) -> None:
    """systemd-nspawn refuses to start unless its folder is on a tmpfs ("Attempted to remove
    disk file system"); without systemd nobody mounts one. It stays: other daemons share it."""
    if fstype_at(path) == "tmpfs":
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
        mount("tmpfs", path, "tmpfs", "mode=0755")
        log.info("mounted a tmpfs on %s for systemd-nspawn", path)
    except OSError as e:
        log.warning("cannot mount a tmpfs on %s (containers will not start): %s", path, e)


@contextlib.asynccontextmanager
async def containers(svc: Services) -> AsyncIterator[None]:
    state = svc.settings.state_dir
    store = ArtifactStore(svc.extra["db"], state / "artifacts")
    await store.open()
    root = os.geteuid() == 0
    if root:
        prepare_nspawn()
    systrees = SystreeCache(state / "systrees", store)
    await systrees.open(tmpfs=root)
    store.dropped.append(systrees.drop)
    svc.extra["artifacts"] = store
    svc.extra["systrees"] = systrees  # pruning removes trees unused for 30 days
    services = svc.extra.get("worker_services")
    if services is None:
        services = svc.extra["worker_services"] = WorkerServices()
    services.artifacts = store
    services.systrees = systrees
    try:
        yield
    finally:
        await systrees.close()


PLUGINS.append(containers)
