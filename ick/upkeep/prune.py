"""Pruning: old builds (rows, actions, notifications, outputs, logs) by retention, blobs
neither an artifact nor an output refers to, ended builds' workspaces, and git mirrors and
cached systrees unused for 30 days.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ick.model import Project, build_of_job_name
from ick.storage.artifacts import ArtifactStore
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from ick.storage.retention import Keep, RetentionStore
from ick.timefmt import now_iso, parse_iso
from ick.worker.systrees import SystreeCache, tree_bytes

log = logging.getLogger(__name__)

UNUSED_DAYS = 30.0  # git mirrors and cached systrees unused this long go
HOURLY = 3600.0
FIRST = 60.0  # seconds after start-up before the first hourly prune
DEFAULT_KEEP = Keep(builds=200, days=None)

# The builds something else still needs, whatever retention says (a deployment's: what is
# live, and what it may roll back to): they are not pruned, nor their outputs.
Needed = Callable[[], Awaitable[Collection[int]]]


async def _none_needed() -> Collection[int]:
    return ()


@dataclass
class Removed:
    """One kind of thing pruned: how many, how many bytes, and the names of some."""

    what: str
    count: int = 0
    bytes: int = 0
    names: list[str] = field(default_factory=list)

    def add(self, name: str, size: int) -> None:
        self.count += 1
        self.bytes += size
        if len(self.names) < 20:
            self.names.append(name)

    def to_json(self) -> dict[str, Any]:
        return {"what": self.what, "count": self.count, "bytes": self.bytes,
                "names": self.names}


@dataclass
class PruneReport:
    dry_run: bool
    removed: list[Removed]

    @property
    def bytes_freed(self) -> int:
        return sum(r.bytes for r in self.removed)

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "bytes_freed": self.bytes_freed,
                "removed": [r.to_json() for r in self.removed]}


def keep_for(project: Project | None, default: Keep) -> Keep:
    """A project's own keep_builds / keep_days, each falling back to ick.yaml's."""
    if project is None:
        return default
    builds = project.keep_builds if project.keep_builds is not None else default.builds
    days = project.keep_days if project.keep_days is not None else default.days
    return Keep(builds, days)


def _build_of(name: str, suffix: str = "") -> int | None:
    """The build a log (`ID.log`, `ID.JOB.log`) or workspace (`ID`, `ID.JOB`) belongs to."""
    if suffix:
        if not name.endswith(suffix):
            return None
        name = name[:-len(suffix)]
    return build_of_job_name(name)


def _remove_logs(directory: Path, ids: set[int], dry_run: bool) -> list[tuple[str, int]]:
    """Every log of these builds (one per job of a matrix build): names and sizes. One pass
    over the folder, however many builds go."""
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if _build_of(entry.name, ".log") not in ids:
                continue
            try:
                size = entry.stat(follow_symlinks=False).st_size
                if not dry_run:
                    os.unlink(entry.path)
            except FileNotFoundError:
                continue
            found.append((entry.name, size))
    return sorted(found)


def _remove_mirror(mirror: Path, lock_file: Path, dry_run: bool) -> int | None:
    """Remove a mirror under its flock; None if a build is using it right now."""
    if dry_run:  # no lock taken: taking it would make the mirror look used
        return tree_bytes(mirror)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        size = tree_bytes(mirror)
        shutil.rmtree(mirror, ignore_errors=True)
        return size
    finally:
        os.close(fd)


class Pruner:
    """One prune at a time, by the hour or on request (`ick prune`)."""

    def __init__(
        self, *, retention: RetentionStore, resources: ResourceStore, logs: LogStore,
        state_dir: Path, default: Keep = DEFAULT_KEEP, artifacts: ArtifactStore | None = None,
        systrees: SystreeCache | None = None, now: Callable[[], str] = now_iso,
        wall: Callable[[], float] = time.time, unused_days: float = UNUSED_DAYS,
        needed: Needed = _none_needed,
    ) -> None:
        self.retention = retention
        self.resources = resources
        self.logs = logs
        self.state_dir = state_dir
        self.default = default
        self.artifacts = artifacts
        self.systrees = systrees
        self.now = now
        self.wall = wall
        self.unused = unused_days * 86400
        self.needed = needed
        self._lock = asyncio.Lock()

    async def prune(self, dry_run: bool = False) -> PruneReport:
        async with self._lock:
            report = PruneReport(dry_run, [])
            report.removed += await self._builds(dry_run)
            report.removed.append(await self._blobs(dry_run))
            report.removed.append(await self._workspaces(dry_run))
            report.removed.append(await self._mirrors(dry_run))
            report.removed.append(await self._systrees(dry_run))
        if not dry_run:
            log.info("pruned %s; %d bytes freed", ", ".join(
                f"{r.count} {r.what}" for r in report.removed if r.count) or "nothing",
                report.bytes_freed)
        return report

    async def _builds(self, dry_run: bool) -> list[Removed]:
        builds, logs = Removed("builds"), Removed("logs")
        now = self.now()
        gone: set[int] = set()
        needed = set(await self.needed())
        for name in await self.retention.projects_with_builds():
            project = await self.resources.project(name)
            if project is None:
                # A deleted project's builds all go (`ick projects delete` said so): nothing
                # could rebuild them, and no retention setting of its own is left.
                found = await self.retention.ended(name)
            else:
                found = await self.retention.prunable(name, keep_for(project, self.default), now)
            found = [b for b in found if b.id not in needed]
            if not found:
                continue
            if not dry_run:
                # Rows first: a log without its build is harmless, a build without its log
                # would look broken.
                await self.retention.delete([b.id for b in found])
            for b in found:
                builds.add(f"{b.project} #{b.number}", 0)
            gone.update(b.id for b in found if not self.logs.is_live(b.id))
        if gone:
            for log_name, size in await asyncio.to_thread(_remove_logs, self.logs.directory,
                                                          gone, dry_run):
                logs.add(log_name, size)
        return [builds, logs]

    async def _blobs(self, dry_run: bool) -> Removed:
        removed = Removed("artifact blobs")
        if self.artifacts is not None:
            for digest, size in await self.artifacts.sweep_unreferenced(dry_run):
                removed.add(digest, size)
        return removed

    async def _workspaces(self, dry_run: bool) -> Removed:
        """Workspaces named after builds that ended over an hour ago (a crash or a killed
        worker left them; a worker hands its own back as a spare)."""
        removed = Removed("workspaces")
        root = self.state_dir / "workspaces"
        hour_ago = (parse_iso(self.now()) - timedelta(hours=1)).isoformat(
            timespec="milliseconds").replace("+00:00", "Z")
        live, top = await self.retention.live_build_ids(hour_ago)
        if not root.is_dir():
            return removed
        for path in sorted(root.iterdir()):
            build_id = _build_of(path.name)
            if build_id is None or build_id in live or build_id > top:
                continue
            size = await asyncio.to_thread(tree_bytes, path)
            if not dry_run:
                await asyncio.to_thread(shutil.rmtree, path, True)
            removed.add(path.name, size)
        return removed

    async def _mirrors(self, dry_run: bool) -> Removed:
        removed = Removed("git mirrors")
        root = self.state_dir / "git"
        if not root.is_dir():
            return removed
        for mirror in sorted(root.glob("*.git")):
            lock_file = mirror.with_suffix(".lock")
            used = max(_mtime(mirror), _mtime(lock_file))
            if self.wall() - used < self.unused:
                continue
            size = await asyncio.to_thread(_remove_mirror, mirror, lock_file, dry_run)
            if size is not None:
                removed.add(mirror.name, size)
        return removed

    async def _systrees(self, dry_run: bool) -> Removed:
        removed = Removed("cached systrees")
        if self.systrees is not None:
            for digest, size in await self.systrees.prune_unused(self.unused, self.wall(),
                                                                 dry_run):
                removed.add(digest, size)
        return removed

    async def run_hourly(self, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                         first: float = FIRST, every: float = HOURLY) -> None:
        """Prune every hour until cancelled; a failed prune is logged and tried next hour."""
        await sleep(first)
        while True:
            try:
                await self.prune()
            except Exception:
                log.exception("pruning failed")
            await sleep(every)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
