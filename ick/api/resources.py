"""Routes for projects and pipelines, and triggering a project."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ick.api.helpers import json_body, require
from ick.errors import ConflictError, IckFileError, InputError, NotFoundError
from ick.keepers.tokens import check_project
from ick.keepers.triggers import check_parameters, check_ref
from ick.keys import CONTROLLER, RESOURCES, SECRETS
from ick.model import GATE_PARAMETER, GitFacts, name_problem
from ick.scheduler.plan import REF_TRIGGERS

# What a caller may say asked for a build: `ui` is the pages' own, the rest the daemon's.
CALLER_TRIGGERS = ("api", "hook")
MAX_GIT_TEXT = 300  # characters of a commit's subject or author the hook may send


def _name(request: web.Request) -> str:
    name = request.match_info["name"]
    problem = name_problem(name)
    if problem:
        raise InputError(problem)
    return name


def _named_doc(doc: Any, key: str, name: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InputError(f"expected a JSON object describing {key} {name!r}")
    named: dict[str, Any] = {str(k): v for k, v in doc.items()}
    named.setdefault(key, name)
    if named[key] != name:
        raise InputError(f"{key} name {named[key]!r} in the body differs from {name!r} in the path")
    return named


async def list_projects(request: web.Request) -> web.Response:
    record = require(request, "read", checks_projects=True)
    projects = await request.app[RESOURCES].projects()
    return web.json_response([p.to_doc() for p in projects if record.binds(p.name)])


async def get_project(request: web.Request) -> web.Response:
    require(request, "read", request.match_info["name"])
    name = _name(request)
    project = await request.app[RESOURCES].project(name)
    if project is None:
        raise NotFoundError(f"no project {name!r}")
    return web.json_response(project.to_doc())


async def put_project(request: web.Request) -> web.Response:
    # Validation reads every action type's record, and so loads the runner modules: only
    # once someone applies a resource, so that an idle daemon stays small.
    from ick.ickfile import check_references, project_from_doc

    record = require(request, "write", request.match_info["name"])
    name = _name(request)
    doc = _named_doc(await json_body(request), "project", name)
    project = project_from_doc(doc, "")  # each problem already names the project
    for downstream in project.triggers:  # a bound token's builds must not reach past it
        check_project(record, downstream, f"no project {downstream!r}")
    store = request.app[RESOURCES]
    pipelines = {p.name: p for p in await store.pipelines()}
    problems = check_references([project], pipelines)
    if problems:
        raise IckFileError(problems)
    created = await store.project(name) is None
    await store.put_project(project)
    return web.json_response(project.to_doc(), status=201 if created else 200)


async def delete_project(request: web.Request) -> web.Response:
    require(request, "write", request.match_info["name"])
    name = _name(request)
    if not await request.app[RESOURCES].delete_project(name):
        raise NotFoundError(f"no project {name!r}")
    request.app[SECRETS].forget_project(name)
    return web.json_response({"deleted": name})


async def list_pipelines(request: web.Request) -> web.Response:
    require(request, "read")
    pipelines = await request.app[RESOURCES].pipelines()
    return web.json_response([p.to_doc() for p in pipelines])


async def get_pipeline(request: web.Request) -> web.Response:
    require(request, "read")
    name = _name(request)
    pipeline = await request.app[RESOURCES].pipeline(name)
    if pipeline is None:
        raise NotFoundError(f"no pipeline {name!r}")
    return web.json_response(pipeline.to_doc())


async def put_pipeline(request: web.Request) -> web.Response:
    from ick.ickfile import pipeline_from_doc

    require(request, "write")
    name = _name(request)
    doc = _named_doc(await json_body(request), "pipeline", name)
    pipeline = pipeline_from_doc(doc, "")  # each problem already names the pipeline
    store = request.app[RESOURCES]
    created = await store.pipeline(name) is None
    await store.put_pipeline(pipeline)
    return web.json_response(pipeline.to_doc(), status=201 if created else 200)


async def delete_pipeline(request: web.Request) -> web.Response:
    require(request, "write")
    name = _name(request)
    store = request.app[RESOURCES]
    users = [p.name for p in await store.projects() if name in p.used_pipeline_names()]
    if users:
        raise ConflictError(f"pipeline {name!r} is used by project {users[0]!r}")
    if not await store.delete_pipeline(name):
        raise NotFoundError(f"no pipeline {name!r}")
    return web.json_response({"deleted": name})


def _git_description(doc: object) -> dict[str, str]:
    """The body's `git`: the pushed commit's subject and author, as the hook sends them.
    Description only (shown, never run), so a trigger token may send it; one line each."""
    if not isinstance(doc, dict) or set(doc) - {"subject", "author"}:
        raise InputError("git: expected a JSON object with an optional 'subject' and 'author'")
    out: dict[str, str] = {}
    for key, value in doc.items():
        if not isinstance(value, str) or len(value) > MAX_GIT_TEXT:
            raise InputError(f"git: {key} must be a string of at most {MAX_GIT_TEXT} characters")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise InputError(f"git: {key} must be one line without control characters")
        out[key] = value
    return out


async def trigger(request: web.Request) -> web.Response:
    record = require(request, "trigger", request.match_info["name"])
    name = _name(request)
    body = await json_body(request)
    if body is None:
        body = {}
    if not isinstance(body, dict) or set(body) - {"parameters", "git"}:
        raise InputError("expected a JSON object with an optional 'parameters' object")
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InputError("parameters: expected a JSON object")
    parameters = dict(parameters)
    described = _git_description(body["git"]) if body.get("git") is not None else None
    # Who asks may say it is the git hook; the daemon's own triggers are not theirs to claim.
    ick_trigger = parameters.pop("ick_trigger", "api")
    if ick_trigger not in CALLER_TRIGGERS:
        raise InputError(f"parameters: ick_trigger must be one of {', '.join(CALLER_TRIGGERS)}, "
                         f"not {str(ick_trigger)[:40]!r}")
    if "ick_event" in parameters:
        raise InputError("parameters: ick_event is ick's own: it follows from ick_trigger "
                         "and git_ref")
    if GATE_PARAMETER in parameters:
        raise InputError(f"parameters: {GATE_PARAMETER} is ick's own: a push to "
                         "gate/TARGET/NAME sets it")
    project = await request.app[RESOURCES].project(name)
    if project is None:
        raise NotFoundError(f"no project {name!r}")
    # Before the controller plans anything: a refused trigger queues nothing.
    check_parameters(record, project, parameters)
    # A push of a ref the project does not build is the controller's 409, for any token.
    check_ref(record, project, parameters, pushed=ick_trigger in REF_TRIGGERS)
    git = None
    if described is not None:
        ref, commit = parameters.get("git_ref"), parameters.get("git_commit")
        git = GitFacts.of_ref(ref if isinstance(ref, str) else None,
                              commit if isinstance(commit, str) else None,
                              described.get("subject"), described.get("author"))
    build, new = await request.app[CONTROLLER].trigger_commit(
        name, parameters, ick_trigger=ick_trigger, git=git, triggered_by=record.name)
    # 200: a push of a commit the project has already built (or is building) made no build.
    return web.json_response(build.to_json(), status=201 if new else 200)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/projects", list_projects)
    r.add_post(r"/projects/{name:.+}/+trigger", trigger)
    r.add_get(r"/projects/{name:.+}", get_project)
    r.add_put(r"/projects/{name:.+}", put_project)
    r.add_delete(r"/projects/{name:.+}", delete_project)
    r.add_get("/pipelines", list_pipelines)
    r.add_get(r"/pipelines/{name:.+}", get_pipeline)
    r.add_put(r"/pipelines/{name:.+}", put_pipeline)
    r.add_delete(r"/pipelines/{name:.+}", delete_pipeline)
