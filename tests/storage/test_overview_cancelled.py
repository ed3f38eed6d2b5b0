"""The dashboard's last build and the badge's state skip cancelled builds: cancelling a queued
duplicate showed the project as "#9 cancelled"."""

from __future__ import annotations

from ick.model import BuildState, Project
from ick.storage.builds import BuildStore
from ick.storage.overview import BuildOverview
from ick.storage.resources import ResourceStore
from ick.storage.sqlite import SqliteDatabase
from tests.storage.test_overview import ended


async def test_a_cancelled_build_is_not_the_last_build(db: SqliteDatabase) -> None:  # noqa: F811
    resources, builds, overview = ResourceStore(db), BuildStore(db), BuildOverview(db)
    await resources.put_project(Project("hello"))
    await resources.put_project(Project("only-cancelled"))
    await ended(builds, "hello", BuildState.SUCCEEDED)
    await ended(builds, "hello", BuildState.CANCELLED)
    await ended(builds, "only-cancelled", BuildState.CANCELLED)
    last = dict(await overview.last_builds())
    assert last["hello"] is not None
    assert (last["hello"].number, last["hello"].state) == (1, BuildState.SUCCEEDED)
    assert last["only-cancelled"] is None
    assert await overview.last_finished("hello") == BuildState.SUCCEEDED
    assert await overview.last_finished("only-cancelled") is None
