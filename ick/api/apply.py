"""`POST /apply`: every project and pipeline of one .ick file, checked together and stored in
one transaction, so a file that fails at any point changes nothing (write scope).

    {"pipelines": [PIPELINE_DOC, ...], "projects": [PROJECT_DOC, ...]}
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ick.api.helpers import json_body, require
from ick.errors import IckError, IckFileError, InputError
from ick.keys import RESOURCES
from ick.model import Pipeline, Project

MAX_RESOURCES = 10_000  # per request: a file with more is a mistake, not a configuration


def _docs(body: dict[str, Any], key: str) -> list[Any]:
    docs = body.get(key, [])
    if not isinstance(docs, list) or len(docs) > MAX_RESOURCES:
        raise InputError(f"{key}: expected a list of at most {MAX_RESOURCES} documents")
    return docs


def _parsed(docs: list[Any], parse: Any, problems: list[str]) -> list[Any]:
    parsed = []
    for doc in docs:
        try:
            parsed.append(parse(doc, ""))  # each problem names its resource
        except IckFileError as e:
            problems += e.problems
        except IckError as e:
            problems.append(e.message)
    return parsed


def _once(resources: list[Pipeline] | list[Project], kind: str, problems: list[str]) -> None:
    seen: set[str] = set()
    for resource in resources:
        if resource.name in seen:
            problems.append(f"{kind} {resource.name!r} is given twice")
        seen.add(resource.name)


async def apply(request: web.Request) -> web.Response:
    # At the first apply: the checks bring every action type's module (ick.runners.catalog),
    # which an idle daemon does without.
    from ick.ickfile import check_references, pipeline_from_doc, project_from_doc

    require(request, "write")
    body = await json_body(request)
    if not isinstance(body, dict) or set(body) - {"pipelines", "projects"}:
        raise InputError("expected a JSON object with lists 'pipelines' and 'projects'")
    problems: list[str] = []
    pipeline_docs = _docs(body, "pipelines")
    pipelines: list[Pipeline] = _parsed(pipeline_docs, pipeline_from_doc, problems)
    projects: list[Project] = _parsed(_docs(body, "projects"), project_from_doc, problems)
    _once(pipelines, "pipeline", problems)
    _once(projects, "project", problems)
    store = request.app[RESOURCES]
    merged = {p.name: p for p in await store.pipelines()}
    merged.update((p.name, p) for p in pipelines)
    mine = {p.name for p in projects}
    changed = {p.name for p in pipelines}
    # A pipeline this file changes must still suit the stored projects that use it.
    affected = [p for p in await store.projects() if p.name not in mine
                and changed & set(p.used_pipeline_names())]
    # A pipeline of the request with problems of its own is not checked against.
    broken = {d["pipeline"] for d in pipeline_docs
              if isinstance(d, dict) and isinstance(d.get("pipeline"), str)} - changed
    problems += check_references(projects + affected, merged, unchecked=broken)
    if problems:
        raise IckFileError(problems)
    stored_pipelines = {p.name: p.to_doc() for p in await store.pipelines()}
    stored_projects = {p.name: p.to_doc() for p in await store.projects()}
    await store.put_all(pipelines, projects)
    # "changed": false when the stored resource was the same already (`ick apply` says
    # "unchanged" for it).
    return web.json_response({"applied": [
        *({"pipeline": p.name, "created": p.name not in stored_pipelines,
           "changed": stored_pipelines.get(p.name) != p.to_doc()} for p in pipelines),
        *({"project": p.name, "created": p.name not in stored_projects,
           "changed": stored_projects.get(p.name) != p.to_doc()} for p in projects),
    ]})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/apply", apply)
