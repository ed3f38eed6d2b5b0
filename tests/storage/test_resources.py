"""Projects and pipelines (ick/storage/resources.py) on a real SQLite file, and its cache."""

from __future__ import annotations

from ick.model import ActionRecord, Pipeline, Project
from ick.storage.db import Database
from ick.storage.resources import ResourceStore


def actions(n: int) -> list[ActionRecord]:
    return [
        ActionRecord(pipeline="pl", index=i, kind="shell", where="host", spec={"shell": f"s{i}"})
        for i in range(n)
    ]


async def test_projects_put_get_delete_and_the_cache_follows(db: Database) -> None:
    store = ResourceStore(db)
    assert await store.project("liw/site") is None  # caches the absence
    await store.put_project(Project("liw/site", {"a": 1}, ["pl"]))
    got = await store.project("liw/site")
    assert got is not None
    assert (got.parameters, got.pipelines) == ({"a": 1}, ["pl"])
    await store.put_project(Project("liw/site", {"a": 2}, [], concurrent=True))
    got = await store.project("liw/site")
    assert got is not None
    assert (got.parameters, got.pipelines, got.concurrent) == ({"a": 2}, [], True)
    await store.put_project(Project("alpha"))
    assert [p.name for p in await store.projects()] == ["alpha", "liw/site"]
    # another store on the same database (no shared cache) reads what was written
    fresh = await ResourceStore(db).project("liw/site")
    assert fresh is not None and fresh.to_doc() == got.to_doc()

    assert await store.delete_project("liw/site") is True
    assert await store.project("liw/site") is None
    assert await store.delete_project("liw/site") is False
    assert [p.name for p in await store.projects()] == ["alpha"]


async def test_pipelines_put_get_delete_and_the_cache_follows(db: Database) -> None:
    store = ResourceStore(db)
    assert await store.pipeline("build") is None
    await store.put_pipeline(Pipeline("build", ["x"], [{"shell": "true", "where": "host"}]))
    got = await store.pipeline("build")
    assert got is not None
    assert got.to_doc() == {"pipeline": "build", "parameters": ["x"],
                            "actions": [{"shell": "true", "where": "host"}]}
    await store.put_pipeline(Pipeline("build", [], []))
    got = await store.pipeline("build")
    assert got is not None and (got.parameters, got.actions) == ([], [])
    assert [p.name for p in await store.pipelines()] == ["build"]
    assert await store.delete_pipeline("build") is True
    assert await store.pipeline("build") is None
    assert await store.delete_pipeline("build") is False
    assert await store.pipelines() == []
