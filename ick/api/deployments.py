"""Routes for environments and deployments (DESIGN.md, "Continuous delivery").

    GET  /projects/{name}/environments                  each, what is live, what waits  read
    POST /projects/{name}/environments/{env}/+deploy    {"build": ID} optional           deploy
    POST /projects/{name}/environments/{env}/+rollback  {"build": ID} optional           deploy
    GET  /deployments (?project=, ?environment=, ?limit=), /deployments/{id}            read
    POST /deployments/{id}/+approve, /deployments/{id}/+reject                          deploy
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ick.api.helpers import json_body, require
from ick.errors import InputError, NotFoundError
from ick.keepers.tokens import check_project
from ick.keys import DEPLOYMENTS, RESOURCES
from ick.model import name_problem

MAX_LIST = 1000
# An environment's name is a name (ick.model.name_problem): no '+', so never a route's part.
_ENV = r"/projects/{name:.+}/environments/{env:[^/+][^/]*}"


async def _project(request: web.Request, scope: str) -> str:
    name = request.match_info["name"]
    problem = name_problem(name)
    if problem:
        raise InputError(problem)
    require(request, scope, name)
    if await request.app[RESOURCES].project(name) is None:
        raise NotFoundError(f"no project {name!r}")
    return name


def _number(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InputError(f"bad {what} {text!r}: expected a number")
    return int(text)


async def _build_of(request: web.Request) -> int | None:
    body = await json_body(request)
    if body is None:
        return None
    if not isinstance(body, dict) or set(body) - {"build"}:
        raise InputError('expected {"build": ID} (or nothing)')
    build = body.get("build")
    if build is None:
        return None
    if not isinstance(build, int) or isinstance(build, bool) or build < 1:
        raise InputError(f"build: expected a build id, not {build!r}")
    return build


async def environments(request: web.Request) -> web.Response:
    name = await _project(request, "read")
    return web.json_response(await request.app[DEPLOYMENTS].environments(name))


async def deploy(request: web.Request) -> web.Response:
    name = await _project(request, "deploy")
    record = require(request, "deploy", name)
    build = await _build_of(request)
    deployment = await request.app[DEPLOYMENTS].deploy(name, request.match_info["env"], build,
                                                       record.name)
    return web.json_response(deployment.to_json(), status=201)


async def rollback(request: web.Request) -> web.Response:
    name = await _project(request, "deploy")
    record = require(request, "deploy", name)
    build = await _build_of(request)
    deployment = await request.app[DEPLOYMENTS].rollback(name, request.match_info["env"],
                                                         build, record.name)
    return web.json_response(deployment.to_json(), status=201)


async def list_deployments(request: web.Request) -> web.Response:
    record = require(request, "read", checks_projects=True)
    project = request.query.get("project")
    environment = request.query.get("environment")
    text = request.query.get("limit", "100")
    limit = _number(text, "limit")
    if not 1 <= limit <= MAX_LIST:
        raise InputError(f"limit: expected a whole number from 1 to {MAX_LIST}, got {text!r}")
    if project is not None:
        check_project(record, project, f"no project {project!r}")
    found = await request.app[DEPLOYMENTS].store.find(project, environment, limit)
    docs: list[dict[str, Any]] = [d.to_json() for d in found if record.binds(d.project)]
    return web.json_response(docs)


async def _deployment(request: web.Request, scope: str) -> tuple[int, str]:
    """The deployment's id and the name of the token asking, which may see its project."""
    deployment_id = _number(request.match_info["id"], "deployment id")
    record = require(request, scope, checks_projects=True)
    deployment = await request.app[DEPLOYMENTS].get(deployment_id)
    check_project(record, deployment.project, f"no deployment {deployment_id}")
    return deployment_id, record.name


async def get_deployment(request: web.Request) -> web.Response:
    deployment_id, _ = await _deployment(request, "read")
    return web.json_response((await request.app[DEPLOYMENTS].get(deployment_id)).to_json())


async def approve(request: web.Request) -> web.Response:
    deployment_id, name = await _deployment(request, "deploy")
    deployment = await request.app[DEPLOYMENTS].approve(deployment_id, name)
    return web.json_response(deployment.to_json())


async def reject(request: web.Request) -> web.Response:
    deployment_id, name = await _deployment(request, "deploy")
    deployment = await request.app[DEPLOYMENTS].reject(deployment_id, name)
    return web.json_response(deployment.to_json())


def add_routes(app: web.Application) -> None:
    """Before the resources' routes: /projects/{name:.+} would take these paths."""
    r = app.router
    r.add_get(r"/projects/{name:.+}/environments", environments)
    r.add_post(f"{_ENV}/+deploy", deploy)
    r.add_post(f"{_ENV}/+rollback", rollback)
    r.add_get("/deployments", list_deployments)
    r.add_get(r"/deployments/{id}", get_deployment)
    r.add_post(r"/deployments/{id}/+approve", approve)
    r.add_post(r"/deployments/{id}/+reject", reject)
