"""The daemon's own workers' services (`LocalServices`): the artifact store and the secrets on
the controller's disk, behind the runners' `WorkerServices` protocol (ick.runners.base), which
`RemoteServices` in ick.worker.remote implements over the work protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from ick.errors import ActionError
from ick.runners.base import ActionContext, ArtifactRef
from ick.storage.artifacts import ArtifactStore
from ick.storage.outputs import OutputStore
from ick.worker.deployed import place
from ick.worker.systrees import SystreeCache


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
    with `StoreBlobs` of that store), secrets and builds' outputs."""

    def __init__(self, artifacts: ArtifactStore, systrees: SystreeCache,
                 secret: Callable[[str, str, str | None], bytes | None],
                 outputs: OutputStore) -> None:
        self.artifacts = artifacts
        self.outputs = outputs
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
        environment = ctx.parameters.get("ick_environment") if ctx.event == "deploy" else None
        return self._secret(ctx.project, name,
                            environment if isinstance(environment, str) else None)

    async def store_output(self, ctx: ActionContext, path: str, file: Path) -> tuple[int, str]:
        output = await self.outputs.put_file(ctx.build_id, ctx.job, path, file)
        return output.size, output.digest

    async def deployed_outputs(self, ctx: ActionContext, build_id: int) -> int:
        """Copied from the store (never linked: an action may change its workspace's files)."""
        found = await self.outputs.list(build_id)
        for output in found:
            target = place(ctx.workspace, output.path)
            await asyncio.to_thread(shutil.copyfile, self.outputs.blob_path(output), target)
        return len(found)
