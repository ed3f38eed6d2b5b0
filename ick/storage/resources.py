"""Projects and pipelines, stored as the JSON documents users write; beside a pipeline's
document, its actions' traits (ick.model.ActionTraits), which users never see."""

from __future__ import annotations

import json

from ick.model import ActionTraits, Pipeline, Project
from ick.storage.db import Database
from ick.timefmt import now_iso


def project_from_json(text: str) -> Project:
    doc = json.loads(text)
    return Project(
        name=doc["project"],
        parameters=doc.get("parameters") or {},
        pipelines=doc.get("pipelines") or [],
        notify=doc.get("notify") or [],
        concurrent=bool(doc.get("concurrent", False)),
        worker=doc.get("worker") or {},
        matrix=doc.get("matrix"),
        fail_fast=bool(doc.get("fail_fast", False)),
        keep_builds=doc.get("keep_builds"),
        keep_days=doc.get("keep_days"),
        schedule=doc.get("schedule"),
        poll=doc.get("poll"),
        triggers=doc.get("triggers") or [],
        extra_parameters=bool(doc.get("extra_parameters", False)),
        trigger_parameters=doc.get("trigger_parameters") or [],
        forge=doc.get("forge") or None,
        trust_changes=bool(doc.get("trust_changes", False)),
        repository_pipelines=doc.get("repository_pipelines"),
        trust_repository=bool(doc.get("trust_repository", False)),
        branches=doc.get("branches", ["*"]),
        tags=doc.get("tags") or [],
        cancel_superseded=bool(doc.get("cancel_superseded", False)),
        gate=doc.get("gate") or None,
        environments=list(doc.get("environments") or []),
        keep_deployments=doc.get("keep_deployments"),
    )


def pipeline_from_json(text: str, traits: str | None = None) -> Pipeline:
    """A pipeline from its document and its `traits` column (None: not decided yet)."""
    doc = json.loads(text)
    return Pipeline(
        name=doc["pipeline"],
        parameters=doc.get("parameters") or [],
        actions=doc.get("actions") or [],
        worker=doc.get("worker") or {},
        when=doc.get("when") or {},
        traits=None if traits is None else tuple(
            ActionTraits(t["kind"], bool(t.get("local")), t.get("arch_key"))
            for t in json.loads(traits)),
    )


def traits_json(pipeline: Pipeline) -> str | None:
    """The `traits` column of a pipeline: NULL where they are not decided for every action."""
    traits = pipeline.traits
    if traits is None or len(traits) != len(pipeline.actions):
        return None
    return json.dumps([{"kind": t.kind, "local": t.local, "arch_key": t.arch_key}
                       for t in traits])


def _pipeline_row(pipeline: Pipeline, now: str) -> tuple[str, str, str | None, str]:
    return pipeline.name, json.dumps(pipeline.to_doc()), traits_json(pipeline), now


class ResourceStore:
    """Projects and pipelines, with a read cache: the daemon is the database's only writer.

    What `project` and `pipeline` return is shared with the cache: read it, never change it.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._put_project = db.dialect.upsert("projects", ("name", "doc", "updated_at"), ("name",))
        self._put_pipeline = db.dialect.upsert(
            "pipelines", ("name", "doc", "traits", "updated_at"), ("name",))
        self._projects: dict[str, Project | None] = {}
        self._pipelines: dict[str, Pipeline | None] = {}

    async def projects(self) -> list[Project]:
        rows = await self.db.fetchall("SELECT doc FROM projects ORDER BY name")
        return [project_from_json(r[0]) for r in rows]

    async def project(self, name: str) -> Project | None:
        if name not in self._projects:
            rows = await self.db.fetchall("SELECT doc FROM projects WHERE name = ?", (name,))
            self._projects[name] = project_from_json(rows[0][0]) if rows else None
        return self._projects[name]

    async def put_project(self, project: Project) -> None:
        await self.db.execute(
            self._put_project,
            (project.name, json.dumps(project.to_doc()), now_iso()),
        )
        self._projects.pop(project.name, None)

    async def delete_project(self, name: str) -> bool:
        self._projects.pop(name, None)
        return await self.db.execute("DELETE FROM projects WHERE name = ?", (name,)) > 0

    async def pipelines(self) -> list[Pipeline]:
        rows = await self.db.fetchall("SELECT doc, traits FROM pipelines ORDER BY name")
        return [pipeline_from_json(r[0], r[1]) for r in rows]

    async def pipeline(self, name: str) -> Pipeline | None:
        if name not in self._pipelines:
            rows = await self.db.fetchall("SELECT doc, traits FROM pipelines WHERE name = ?",
                                          (name,))
            self._pipelines[name] = pipeline_from_json(rows[0][0], rows[0][1]) if rows else None
        return self._pipelines[name]

    async def put_pipeline(self, pipeline: Pipeline) -> None:
        await self.db.execute(self._put_pipeline, _pipeline_row(pipeline, now_iso()))
        self._pipelines.pop(pipeline.name, None)

    async def undecided_pipelines(self) -> list[Pipeline]:
        """The pipelines whose actions' traits are not decided (stored before ick kept them)."""
        rows = await self.db.fetchall(
            "SELECT doc, traits FROM pipelines WHERE traits IS NULL ORDER BY name")
        return [pipeline_from_json(r[0], r[1]) for r in rows]

    async def decide(self, pipelines: list[Pipeline]) -> None:
        """Store the traits these pipelines carry (see undecided_pipelines), in one
        transaction, leaving their documents as they are."""
        await self.db.transaction(("UPDATE pipelines SET traits = ? WHERE name = ?",
                                   (traits_json(p), p.name)) for p in pipelines)
        for pipeline in pipelines:
            self._pipelines.pop(pipeline.name, None)

    async def delete_pipeline(self, name: str) -> bool:
        self._pipelines.pop(name, None)
        return await self.db.execute("DELETE FROM pipelines WHERE name = ?", (name,)) > 0

    async def put_all(self, pipelines: list[Pipeline], projects: list[Project]) -> None:
        """Create or update all of them in one transaction: all are stored, or none."""
        now = now_iso()
        statements: list[tuple[str, tuple[str | None, ...]]] = [
            (self._put_pipeline, _pipeline_row(p, now)) for p in pipelines]
        statements += [(self._put_project, (p.name, json.dumps(p.to_doc()), now))
                       for p in projects]
        try:
            await self.db.transaction(statements)
        finally:
            for pipeline in pipelines:
                self._pipelines.pop(pipeline.name, None)
            for project in projects:
                self._projects.pop(project.name, None)
