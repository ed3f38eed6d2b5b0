"""Outputs go with their build when retention prunes it, their blobs with them unless an
artifact or another build's output has the same bytes; a build something else still needs
(the `needed` hook: deployments, later) keeps its outputs."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Collection
from dataclasses import replace

from ick.daemon import Daemon
from ick.model import Build, BuildState, Project
from ick.storage.retention import Keep, RetentionStore
from ick.upkeep.prune import Pruner
from tests.pipelines import checked


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def ended(svc: Daemon, outputs: dict[str, bytes]) -> Build:
    build = await svc.builds.create("p", {}, False, [], "2026-01-01T00:00:00.000Z")
    build = replace(build, state=BuildState.FAILED, finished_at="2026-01-01T00:00:00.000Z")
    await svc.builds.save(build)
    for path, data in outputs.items():
        await svc.outputs.put(build.id, 0, path, chunks(data))
    return build


def blobs(svc: Daemon) -> set[str]:
    return {f"sha256:{p.name}" for p in svc.artifacts.blobs.glob("*/*")}


async def test_outputs_go_with_their_build_and_blobs_when_unreferenced(services: Daemon) -> None:
    svc = services
    await svc.resources.put_pipeline(checked("p", [], [{"shell": "true", "where": "host"}]))
    await svc.resources.put_project(Project("p", pipelines=["p"], keep_builds=1))
    needed: set[int] = set()

    async def deployed() -> Collection[int]:
        return needed

    old = await ended(svc, {"a.deb": b"old only", "shared.txt": b"shared"})
    live = await ended(svc, {"site.tar": b"deployed"})
    await ended(svc, {"b.deb": b"new", "shared.txt": b"shared"})
    await svc.artifacts.put("named", chunks(b"deployed"))
    needed.add(live.id)
    pruner = Pruner(retention=RetentionStore(svc.db), resources=svc.resources, logs=svc.logs,
                    state_dir=svc.settings.state_dir, default=Keep(builds=200, days=None),
                    artifacts=svc.artifacts, needed=deployed)

    report = await pruner.prune()
    assert report.removed[0].names == ["p #1"]
    assert await svc.outputs.list(old.id) == []
    assert [o.path for o in await svc.outputs.list(live.id)] == ["site.tar"]
    assert blobs(svc) == {sha(b"shared"), sha(b"deployed"), sha(b"new")}
    assert {r.what: r.count for r in report.removed}["artifact blobs"] == 1

    # No longer needed: it goes; its blob stays while the artifact has the same bytes.
    needed.clear()
    assert (await pruner.prune()).removed[0].names == ["p #2"]
    assert await svc.outputs.list(live.id) == []
    assert sha(b"deployed") in blobs(svc)
    await svc.artifacts.delete("named")
    assert blobs(svc) == {sha(b"shared"), sha(b"new")}
