"""Build workspaces: handed out empty, taken back and emptied off the build's path.

Emptied directories are kept as spares and renamed into place for the next build: on this
ext4, creating an inode right after deleting many costs more than the whole rest of a
trivial build, and a rename costs almost nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
from pathlib import Path

from ick.model import job_name

log = logging.getLogger(__name__)

MAX_SPARES = 64


def _empty(path: Path) -> bool:
    with os.scandir(path) as entries:
        return next(entries, None) is None


def _clear(path: Path) -> None:
    """Delete everything inside `path`, keeping `path` itself."""
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)


class Workspaces:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.spare_dir = root / ".spare"
        self.spare_dir.mkdir(parents=True, exist_ok=True)
        self._spares = sorted(p.name for p in self.spare_dir.iterdir())
        self._names = itertools.count(len(self._spares) + 1)
        self._dirty: asyncio.Queue[Path] | None = None

    def path(self, build_id: int, job: int = 0) -> Path:
        """A job's workspace: job 0's is the build's, STATE/workspaces/ID; job N's ID.N."""
        return self.root / job_name(build_id, job or None)

    def create(self, build_id: int, job: int = 0) -> Path:
        """An empty directory for the job (a leftover of an earlier run is emptied first)."""
        path = self.path(build_id, job)
        if path.exists():
            shutil.rmtree(path)
        while self._spares:
            spare = self.spare_dir / self._spares.pop()
            try:
                os.rename(spare, path)
                return path
            except OSError:
                continue
        path.mkdir()
        return path

    def release(self, build_id: int, job: int = 0) -> None:
        """The job is over: its workspace is emptied in the background and kept as a spare."""
        path = self.path(build_id, job)
        if not path.is_dir():
            return
        name = f"w{next(self._names)}-{os.getpid()}"
        target = self.spare_dir / name if len(self._spares) < MAX_SPARES else None
        if target is not None and _empty(path):
            os.rename(path, target)
            self._spares.append(name)
            return
        trash = self.spare_dir / f"{name}.trash"
        os.rename(path, trash)
        if self._dirty is None:
            self._finish(trash)
        else:
            self._dirty.put_nowait(trash)

    def _finish(self, trash: Path) -> None:
        if len(self._spares) < MAX_SPARES:
            _clear(trash)
            spare = trash.with_suffix("")
            os.rename(trash, spare)
            self._spares.append(spare.name)
        else:
            shutil.rmtree(trash, ignore_errors=True)

    async def run(self) -> None:
        """Empty released workspaces one at a time, in a thread, until cancelled."""
        self._dirty = asyncio.Queue()
        for leftover in self.spare_dir.glob("*.trash"):
            self._dirty.put_nowait(leftover)
        while True:
            trash = await self._dirty.get()
            try:
                await asyncio.to_thread(self._finish, trash)
            except OSError as e:
                log.warning("could not empty workspace %s: %s", trash, e)
