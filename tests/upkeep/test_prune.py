"""Pruning a real state directory: real SQLite rows, log files, blobs, workspaces, mirrors,
with the bytes on disk counted before and after."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from ick.daemon import Daemon
from ick.model import Build, BuildState, Project
from ick.storage.notifications import Decision, NotifyState
from ick.storage.retention import Keep, RetentionStore
from ick.upkeep.prune import Pruner
from tests.pipelines import checked

DAY = 86400.0
T0 = "2026-01-01T00:00:00.000Z"


def disk_bytes(state: Path) -> int:
    """Bytes of every file under the state dir but the database's own."""
    total = 0
    for top, _, files in os.walk(state):
        for name in files:
            if not name.startswith("ick.db"):
                total += os.lstat(os.path.join(top, name)).st_size
    return total


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture
async def svc(services: Daemon) -> Daemon:
    await services.resources.put_pipeline(
        checked("p", [], [{"shell": "true", "where": "host"}]))
    return services


async def ended(svc: Daemon, project: str, state: BuildState, log: bytes) -> Build:
    """A build that has ended, as the controller leaves one: row, log file."""
    build = await svc.builds.create(project, {}, False, [], "2026-01-01T00:00:00.000Z")
    build = replace(build, state=state, finished_at="2026-01-01T00:00:00.000Z")
    await svc.builds.save(build)
    svc.logs.append(build.id, log)
    svc.logs.close(build.id)
    return build


async def test_prune_removes_old_builds_blobs_workspaces_and_mirrors(svc: Daemon) -> None:
    state = svc.settings.state_dir
    await svc.resources.put_project(Project("kept2", pipelines=["p"], keep_builds=2))
    await svc.resources.put_project(Project("other", pipelines=["p"]))
    good = await ended(svc, "kept2", BuildState.SUCCEEDED, b"g" * 1000)
    old = [await ended(svc, "kept2", BuildState.FAILED, b"f" * 2000) for _ in range(3)]
    queued = await svc.builds.create("kept2", {}, False, [], "2026-01-01T00:00:00.000Z")
    newest = await ended(svc, "kept2", BuildState.FAILED, b"n" * 10)
    others = [await ended(svc, "other", BuildState.FAILED, b"o" * 10) for _ in range(3)]

    artifacts = svc.artifacts
    await artifacts.put("named", chunks(b"kept blob"))
    stray = artifacts.blob_path("sha256:" + "ab" * 32)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"x" * 5000)

    (state / "workspaces" / str(old[0].id)).mkdir()
    (state / "workspaces" / str(old[0].id) / "junk").write_bytes(b"w" * 3000)
    # a matrix build's second job: its own log and workspace
    (state / "logs" / f"{old[1].id}.1.log").write_bytes(b"j" * 500)
    (state / "workspaces" / f"{old[1].id}.1").mkdir()
    (state / "workspaces" / f"{old[1].id}.1" / "junk").write_bytes(b"w" * 1000)
    (state / "workspaces" / str(queued.id)).mkdir()
    (state / "workspaces" / str(queued.id) / "in-use").write_bytes(b"q" * 100)

    stale, fresh = state / "git" / ("a" * 64 + ".git"), state / "git" / ("b" * 64 + ".git")
    for mirror in (stale, fresh):
        mirror.mkdir(parents=True)
        (mirror / "HEAD").write_bytes(b"r" * 4000)
    month_ago = time.time() - 31 * DAY
    os.utime(stale, (month_ago, month_ago))

    pruner = Pruner(retention=RetentionStore(svc.db), resources=svc.resources,
                    logs=svc.logs, state_dir=state, default=Keep(builds=200, days=None),
                    artifacts=artifacts)
    before = disk_bytes(state)
    dry = await pruner.prune(dry_run=True)
    assert disk_bytes(state) == before, "a dry run removes nothing"
    report = await pruner.prune()
    assert dry.to_json() == {**report.to_json(), "dry_run": True}
    counts = {r.what: (r.count, r.bytes) for r in report.removed}
    # kept2 keeps its newest two (newest, queued) and its last succeeded one (good)
    assert counts == {
        "builds": (3, 0), "logs": (4, 3 * 2000 + 500), "artifact blobs": (1, 5000),
        "workspaces": (2, pytest.approx(4000, abs=16384)),
        "git mirrors": (1, pytest.approx(4000, abs=8192)), "cached systrees": (0, 0)}
    assert [r.names for r in report.removed][0] == [f"kept2 #{b.number}" for b in old]
    assert before - disk_bytes(state) == 6500 + 5000 + 4000 + 4000
    assert report.bytes_freed >= 19500

    remaining = [b.id for b in await svc.builds.list("kept2")]
    assert remaining == [newest.id, queued.id, good.id]
    assert len(await svc.builds.list("other")) == 3
    assert await svc.builds.get(old[0].id) is None
    assert not svc.logs.path(old[0].id).exists() and svc.logs.path(good.id).exists()
    assert not (state / "logs" / f"{old[1].id}.1.log").exists()
    assert not stray.exists() and (await artifacts.get("named")) is not None
    assert (state / "workspaces" / str(queued.id) / "in-use").exists()
    assert not stale.exists() and fresh.exists()
    # numbers are never given out again
    again = await svc.builds.create("kept2", {}, False, [], "2026-01-01T00:00:00.000Z")
    assert again.number == newest.number + 1
    assert (await pruner.prune()).bytes_freed == 0
    del others


async def test_keep_days_and_per_project_overrides(svc: Daemon) -> None:
    await svc.resources.put_project(Project("days", pipelines=["p"], keep_days=1))
    builds = [await ended(svc, "days", BuildState.FAILED, b"x") for _ in range(3)]
    now = ["2026-01-01T12:00:00.000Z"]  # finished_at of every build: 2026-01-01T00:00
    pruner = Pruner(retention=RetentionStore(svc.db), resources=svc.resources,
                    logs=svc.logs, state_dir=svc.settings.state_dir,
                    default=Keep(builds=None, days=None), now=lambda: now[0])
    assert (await pruner.prune()).removed[0].count == 0  # half a day old
    now[0] = "2026-01-02T00:00:01.000Z"
    assert (await pruner.prune()).removed[0].count == 3
    assert await svc.builds.list("days") == []
    del builds


async def test_cached_systrees_unused_for_30_days_go(svc: Daemon) -> None:
    trees = svc.systrees.trees
    old, recent = trees / ("cd" * 32), trees / ("ef" * 32)
    for tree in (old, recent):
        (tree / "etc").mkdir(parents=True)
        (tree / "etc" / "os-release").write_bytes(b"t" * 7000)
    month_ago = time.time() - 31 * DAY
    os.utime(old, (month_ago, month_ago))
    pruner = Pruner(retention=RetentionStore(svc.db), resources=svc.resources, logs=svc.logs,
                    state_dir=svc.settings.state_dir, systrees=svc.systrees)
    dry = await pruner.prune(dry_run=True)
    assert old.exists()
    report = await pruner.prune()
    assert dry.to_json() == {**report.to_json(), "dry_run": True}
    [systrees] = [r for r in report.removed if r.what == "cached systrees"]
    assert (systrees.count, systrees.names) == (1, ["sha256:" + "cd" * 32])
    assert systrees.bytes >= 7000
    assert not old.exists() and recent.exists()


async def test_notifications_go_with_their_build_and_a_pending_one_keeps_it(
        svc: Daemon) -> None:
    await svc.resources.put_project(Project("told", pipelines=["p"], keep_builds=1))
    sent, pending, newest = [await ended(svc, "told", BuildState.FAILED, b"x")
                             for _ in range(3)]
    target = {"email": "dev@example.org", "when": "always", "on": ["end"]}
    await svc.notifications.decide([Decision(sent.id, "end", [target]),
                                    Decision(pending.id, "end", [target])], T0)
    [done] = await svc.notifications.for_build(sent.id)
    done.state = NotifyState.SENT
    await svc.notifications.record(done)
    pruner = Pruner(retention=RetentionStore(svc.db), resources=svc.resources, logs=svc.logs,
                    state_dir=svc.settings.state_dir)
    report = await pruner.prune()
    assert report.removed[0].names == [f"told #{sent.number}"]
    assert await svc.notifications.for_build(sent.id) == []
    assert [b.id for b in await svc.builds.list("told")] == [newest.id, pending.id]
    rows = await svc.db.fetchall("SELECT build_id FROM notify_decisions ORDER BY build_id")
    assert [r[0] for r in rows] == [pending.id]
