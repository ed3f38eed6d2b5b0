"""`when:` kept by the resource store (ick/storage/resources.py): a pipeline's condition and a
project's conditional entries read back as written from the database, not only the cache."""

from __future__ import annotations

from typing import Any

from ick.model import PipelineEntry, Project
from ick.storage.db import Database
from ick.storage.resources import ResourceStore
from tests.pipelines import checked


async def test_conditions_read_back_as_written(db: Database) -> None:
    publish = checked("publish", [], [{"shell": "true", "where": "host",
                                       "when": {"status": "failure"}}])
    publish.when = {"event": ["push", "tag"]}
    entries: list[str | dict[str, Any]] = [
        "build", {"pipeline": "publish", "when": {"branch": ["main", "release/*"]}}]
    await ResourceStore(db).put_pipeline(publish)
    await ResourceStore(db).put_project(Project("site", {}, entries))
    fresh = ResourceStore(db)  # no shared cache: what the database holds
    pipeline = await fresh.pipeline("publish")
    project = await fresh.project("site")
    assert pipeline is not None and project is not None
    assert pipeline.when == {"event": ["push", "tag"]}
    assert pipeline.actions[0]["when"] == {"status": "failure"}
    assert project.pipelines == entries
    assert project.pipeline_entries() == [
        PipelineEntry("build"), PipelineEntry("publish", {"branch": ["main", "release/*"]})]
