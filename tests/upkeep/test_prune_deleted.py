"""A deleted project's builds are pruned at the next prune, its last succeeded build too;
before that they were kept for ever (issue 22, finding 16)."""

from __future__ import annotations

from ick.daemon import Daemon
from ick.model import BuildState, Pipeline, Project
from ick.storage.retention import Keep, RetentionStore
from ick.upkeep.prune import Pruner
from tests.upkeep.test_prune import ended


async def test_a_deleted_project_s_builds_go_at_the_next_prune(services: Daemon) -> None:
    svc = services
    await svc.resources.put_pipeline(Pipeline("p", [], [{"shell": "true", "where": "host"}]))
    await svc.resources.put_project(Project("gone", pipelines=["p"]))
    await svc.resources.put_project(Project("kept", pipelines=["p"]))
    await ended(svc, "gone", BuildState.SUCCEEDED, b"g")
    await ended(svc, "gone", BuildState.FAILED, b"f")
    queued = await svc.builds.create("gone", {}, False, [], "2026-01-01T00:00:00.000Z")
    kept = await ended(svc, "kept", BuildState.FAILED, b"k")
    assert await svc.resources.delete_project("gone")
    pruner = Pruner(retention=RetentionStore(svc.db), resources=svc.resources,
                    logs=svc.logs, state_dir=svc.settings.state_dir,
                    default=Keep(builds=200, days=None))
    report = await pruner.prune()
    assert report.removed[0].count == 2
    assert [b.id for b in await svc.builds.list("gone")] == [queued.id]  # still queued
    assert [b.id for b in await svc.builds.list("kept")] == [kept.id]
