"""The systree cache: each systree artifact unpacked once per digest, and per-build
copy-on-write views of it (overlayfs), so no build can change the cached tree or another's.

The bytes come from the worker's services (the controller's store, or the work protocol).
It all lives at STATE/systrees, on disk by default; with `systree_cache: tmpfs` on a tmpfs
there, mounted when a build first asks for a systree and unmounted when the daemon stops:
unpacking is faster there, and removing a tree or a build's upper layer costs nothing, but
each tree holds its size in RAM (two bookworm trees held 2.2 GB). The cache starts cold
after every restart either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Protocol

from ick.errors import ActionError
from ick.runners.base import ActionContext, ArtifactRef, SystreeView
from ick.runners.mounts import OPTION_UNSAFE, mount, mounts_under, umount
from ick.runners.tarball import extract_archive


class BlobSource(Protocol):
    """Where the cache gets an artifact's bytes, and learns whether a digest is still used."""

    def blob(self, ctx: ActionContext, ref: ArtifactRef) -> contextlib.AbstractAsyncContextManager[
            Path]: ...

    async def referenced(self, digest: str) -> bool: ...

log = logging.getLogger(__name__)


def tree_bytes(path: Path) -> int:
    """Bytes of the files under `path` (symlinks not followed)."""
    total = 0
    for top, dirs, files in os.walk(path):
        for name in files + dirs:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(top, name)).st_size
    return total


class SystreeCache:
    def __init__(self, root: Path, blobs: BlobSource) -> None:
        self.root = root
        self.blobs = blobs
        self.trees = root / "cache"
        self.views = root / "views"
        self._users: dict[str, int] = {}
        self._used: dict[str, float] = {}  # digest -> when a view of it last opened or closed
        self._locks: dict[str, asyncio.Lock] = {}
        self._serial = itertools.count(1)
        self._tmpfs = False
        self._own_tmpfs = False

    async def open(self, tmpfs: bool) -> None:
        """Take over the folder. What a crashed daemon left there (overlay views, the tmpfs
        under them, trees) goes: the cache starts cold, and the tmpfs is only mounted once a
        build asks for a systree."""
        self._tmpfs = tmpfs
        await asyncio.to_thread(self._clear)

    def _clear(self) -> None:
        for point in mounts_under(self.root):  # the deepest first: views, then the tmpfs
            log.warning("unmounting %s, left by an earlier run", point)
            umount(Path(point))
        shutil.rmtree(self.views, ignore_errors=True)
        shutil.rmtree(self.trees, ignore_errors=True)

    def _prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)  # a remote worker's state has none yet
        if self._tmpfs and not self._own_tmpfs:
            mount("tmpfs", self.root, "tmpfs", "mode=0700")
            self._own_tmpfs = True
        self.views.mkdir(mode=0o700, exist_ok=True)
        self.trees.mkdir(mode=0o700, exist_ok=True)

    async def close(self) -> None:
        """Unmount whatever is still mounted, and the tmpfs if this cache mounted it."""
        for point in mounts_under(self.views):
            await asyncio.to_thread(umount, Path(point))
        if self._own_tmpfs:
            await asyncio.to_thread(umount, self.root)
            self._own_tmpfs = False

    def _lock(self, digest: str) -> asyncio.Lock:
        return self._locks.setdefault(digest, asyncio.Lock())

    def tree_path(self, digest: str) -> Path:
        return self.trees / digest.removeprefix("sha256:")

    async def open_view(self, artifact: ArtifactRef,
                        ctx: ActionContext) -> tuple[SystreeView, bool]:
        """A private view of the artifact's tree, and whether the tree was cached already."""
        if os.geteuid() != 0:
            raise ActionError("populate_systree needs root to mount overlayfs: "
                              "run `ick serve` (or `ick worker`) as root")
        if any(c in str(self.root) for c in OPTION_UNSAFE):
            raise ActionError(f"overlayfs cannot take the path {self.root}: "
                              "move the state directory to a path without , : or \\")
        self._prepare()
        digest = artifact.digest
        # Counted before unpacking, so a delete meanwhile cannot take the tree from under us.
        self._users[digest] = self._users.get(digest, 0) + 1
        self._used[digest] = time.time()
        try:
            tree, cached = await self._tree(artifact, ctx)
            root = self.views / f"{ctx.build_id}-{ctx.seq}-{next(self._serial)}"
            for sub in ("upper", "work", "merged"):
                (root / sub).mkdir(parents=True, mode=0o755)
            mount("overlay", root / "merged", "overlay",
                  f"lowerdir={tree},upperdir={root / 'upper'},workdir={root / 'work'}")
        except BaseException:
            await self._release(digest)
            raise
        return SystreeView(root, digest), cached

    async def close_view(self, view: SystreeView) -> None:
        try:
            with contextlib.suppress(FileNotFoundError):
                umount(view.merged)
        finally:
            await asyncio.to_thread(shutil.rmtree, view.root, True)
            await self._release(view.digest)

    async def _tree(self, artifact: ArtifactRef, ctx: ActionContext) -> tuple[Path, bool]:
        path = self.tree_path(artifact.digest)
        async with self._lock(artifact.digest):
            if path.is_dir():
                return path, True
            unpacking = self.trees / f".unpack-{path.name}-{next(self._serial)}"
            unpacking.mkdir(mode=0o755)
            try:
                async with self.blobs.blob(ctx, artifact) as blob:
                    await extract_archive(ctx, blob, unpacking, f"systree {artifact.name!r}")
                os.rename(unpacking, path)
            finally:
                if unpacking.exists():
                    await asyncio.to_thread(shutil.rmtree, unpacking, True)
        return path, False

    async def prune_unused(self, older_than: float, now: float,
                           dry_run: bool = False) -> list[tuple[str, int]]:
        """Cached trees no build has used since `now - older_than`: digests and bytes,
        removed unless `dry_run`."""
        if not self.trees.is_dir():
            return []
        found = []
        for path in sorted(self.trees.iterdir()):
            if path.name.startswith("."):
                continue
            digest = f"sha256:{path.name}"
            used = self._used.get(digest) or path.stat().st_mtime
            if self._users.get(digest) or now - used < older_than:
                continue
            async with self._lock(digest):
                if self._users.get(digest):
                    continue
                size = await asyncio.to_thread(tree_bytes, path)
                if not dry_run:
                    log.info("removing the cached systree %s, unused for %.0f days", digest,
                             (now - used) / 86400)
                    await asyncio.to_thread(shutil.rmtree, path, True)
                    self._used.pop(digest, None)
            found.append((digest, size))
        return found

    async def _release(self, digest: str) -> None:
        self._used[digest] = time.time()
        left = self._users.get(digest, 0) - 1
        if left > 0:
            self._users[digest] = left
            return
        self._users.pop(digest, None)
        if not await self.blobs.referenced(digest):
            await self.drop(digest)

    async def drop(self, digest: str) -> None:
        """Forget the tree of a digest no artifact has any more (unless a build still uses it:
        then the last view to close removes it)."""
        if self._users.get(digest):
            return
        async with self._lock(digest):
            path = self.tree_path(digest)
            if path.is_dir():
                log.info("removing the cached systree %s", digest)
                await asyncio.to_thread(shutil.rmtree, path, True)
