"""ick/storage/overview.py on a real database: the pages' queries give model objects, with the
commit a git action resolved, and what a write just changed."""

from __future__ import annotations

from dataclasses import replace

from ick.model import ActionRecord, Build, BuildState, Project
from ick.storage.builds import BuildStore
from ick.storage.overview import BuildOverview
from ick.storage.resources import ResourceStore
from ick.storage.sqlite import SqliteDatabase

T0 = "2024-01-01T00:00:00.000Z"


def git_action() -> ActionRecord:
    return ActionRecord(pipeline="p", index=0, kind="git", where="host",
                        spec={"git": "https://example.org/r.git"})


async def ended(builds: BuildStore, project: str, state: BuildState,
                commit: str | None = None) -> Build:
    # replace(), not assignment: the model's records may be frozen.
    build = await builds.create(project, {}, False, [git_action()], T0)
    details = {} if commit is None else {"git": [{"commit": commit}]}
    build = replace(build, state=state, started_at=T0, finished_at=T0,
                    actions=[replace(build.actions[0], details=details)])
    await builds.save(build, [0])
    return build


async def test_last_builds_gives_every_project_with_its_newest_build_and_its_commit(
        db: SqliteDatabase) -> None:
    resources, builds = ResourceStore(db), BuildStore(db)
    for name in ("a", "b"):
        await resources.put_project(Project(name))
    await ended(builds, "a", BuildState.FAILED, "c1")
    newest = await ended(builds, "a", BuildState.SUCCEEDED, "c2")
    last = await BuildOverview(db).last_builds()
    assert [name for name, _ in last] == ["a", "b"]
    build = last[0][1]
    assert build is not None and last[1][1] is None
    assert (build.id, build.number, build.state, build.resolved_commit) == (
        newest.id, 2, BuildState.SUCCEEDED, "c2")
    assert build.actions == ()  # listings leave the actions out


async def test_active_gives_running_then_queued_oldest_first(db: SqliteDatabase) -> None:
    builds = BuildStore(db)
    queued = await builds.create("a", {}, False, [git_action()], T0)
    running = await builds.create("a", {}, False, [git_action()], T0)
    running = replace(running, state=BuildState.RUNNING, started_at=T0)
    await builds.save(running)
    await ended(builds, "a", BuildState.SUCCEEDED)
    active = await BuildOverview(db).active()
    assert [(b.id, b.state) for b in active] == [
        (running.id, BuildState.RUNNING), (queued.id, BuildState.QUEUED)]


async def test_page_count_and_last_finished(db: SqliteDatabase) -> None:
    builds, overview = BuildStore(db), BuildOverview(db)
    for state in (BuildState.SUCCEEDED, BuildState.FAILED, BuildState.SUCCEEDED):
        await ended(builds, "a", state, "c")
    await builds.create("a", {}, False, [git_action()], T0)
    assert await overview.count("a") == 4
    assert [b.number for b in await overview.page("a", None, 2)] == [4, 3]
    page = await overview.page("a", 3, 5)
    assert [(b.number, b.resolved_commit) for b in page] == [(2, "c"), (1, "c")]
    assert await overview.last_finished("a") == BuildState.SUCCEEDED
    assert await overview.last_finished("b") is None
