"""What an action may ask of the worker it runs on: artifacts, the systree cache, secrets.

One protocol, `WorkerServices`: `LocalServices` here for the daemon's own workers (the
artifact store and the secrets on the controller's disk), `RemoteServices` in
ick.worker.remote for `ick worker` (the same, over the work protocol).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ick.errors import ActionError
from ick.runners.base import ActionContext
from ick.storage.artifacts import ArtifactStore
from ick.worker.systrees import SystreeCache


@dataclass(frozen=True)
class ArtifactRef:
    """An artifact as a worker knows it: its name and what its bytes are."""

    name: str
    digest: str  # "sha256:<64 hex digits>"
    size: int


class WorkerServices(Protocol):
    @property
    def systrees(self) -> SystreeCache: ...

    async def artifact(self, ctx: ActionContext, name: str) -> ArtifactRef | None:
        """The artifact of that name, or None if there is none."""

    def blob(self, ctx: ActionContext, ref: ArtifactRef) -> contextlib.AbstractAsyncContextManager[
            Path]:
        """The artifact's bytes as a file on this worker (digest checked), while in use."""

    async def referenced(self, digest: str) -> bool:
        """Whether an artifact still has this digest (else its cached tree may go)."""

    def temp_path(self, suffix: str) -> Path:
        """Where to write a file that `store` will take."""

    async def store(self, ctx: ActionContext, name: str, path: Path,
                    arch: str | None = None) -> ArtifactRef:
        """Store the file at `path` (from `temp_path`, which it takes) as artifact `name`,
        recording the architecture of the tree it holds, if it holds one."""

    async def secret(self, ctx: ActionContext, name: str) -> bytes | None:
        """The value of a secret of the build's project that the action names, or None."""


def services_of(ctx: ActionContext) -> WorkerServices:
    if ctx.services is None:
        raise ActionError("this worker has no artifact store, systree cache or secrets")
    return ctx.services


class StoreBlobs:
    """The bytes of artifacts in the controller's own store, for its systree cache."""

    def __init__(self, artifacts: ArtifactStore) -> None:
        self.artifacts = artifacts

    @contextlib.asynccontextmanager
    async def blob(self, ctx: ActionContext, ref: ArtifactRef) -> AsyncIterator[Path]:
        path = self.artifacts.blob_path(ref.digest)
        if not path.exists():
            raise ActionError(f"artifact {ref.name!r} was replaced or deleted while it was "
                              "being prepared")
        yield path

    async def referenced(self, digest: str) -> bool:
        return await self.artifacts.referenced(digest)


class LocalServices:
    """A local worker's services: the controller's own artifact store, systree cache (made
    with `StoreBlobs` of that store) and secrets."""

    def __init__(self, artifacts: ArtifactStore, systrees: SystreeCache,
                 secret: Callable[[str, str], bytes | None]) -> None:
        self.artifacts = artifacts
        self._blobs = StoreBlobs(artifacts)
        self._systrees = systrees
        self._secret = secret

    @property
    def systrees(self) -> SystreeCache:
        return self._systrees

    async def artifact(self, ctx: ActionContext, name: str) -> ArtifactRef | None:
        found = await self.artifacts.get(name)
        return None if found is None else ArtifactRef(found.name, found.digest, found.size)

    def blob(self, ctx: ActionContext, ref: ArtifactRef) -> contextlib.AbstractAsyncContextManager[
            Path]:
        return self._blobs.blob(ctx, ref)

    async def referenced(self, digest: str) -> bool:
        return await self._blobs.referenced(digest)

    def temp_path(self, suffix: str) -> Path:
        return self.artifacts.temp_path(suffix)

    async def store(self, ctx: ActionContext, name: str, path: Path,
                    arch: str | None = None) -> ArtifactRef:
        stored, _ = await self.artifacts.put_file(name, path, arch)
        return ArtifactRef(stored.name, stored.digest, stored.size)

    async def secret(self, ctx: ActionContext, name: str) -> bytes | None:
        return self._secret(ctx.project, name)
