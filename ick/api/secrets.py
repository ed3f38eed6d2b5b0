"""Routes for a project's secrets; no route ever answers with a value.

    PUT    /projects/{name}/+secrets/{secret}   body: the raw value        write
    GET    /projects/{name}/+secrets            names and times            read
    DELETE /projects/{name}/+secrets/{secret}                              write

and one for remote workers, answering with the raw value, only for a secret that the action
the worker runs now names:

    GET    /work/{build}/{seq}/secrets/{secret}?worker=ID                  worker
"""

from __future__ import annotations

from aiohttp import web

from ick.api.helpers import require
from ick.api.keys import CONTROLLER, RESOURCES, SECRETS
from ick.errors import ActionError, ForbiddenError, InputError, NotFoundError
from ick.model import SECRET_NAME_RE, name_problem
from ick.storage.secrets import MAX_SECRET, check_secret_name
from ick.worker.secretfiles import secret_names

# The secret's part cannot hold '/' or '+', so a project name never swallows it.
_SECRET = SECRET_NAME_RE.pattern.strip("^$")
_BASE = r"/projects/{name:.+}/+secrets"


async def _project(request: web.Request) -> str:
    name = request.match_info["name"]
    problem = name_problem(name)
    if problem:
        raise InputError(problem)
    if await request.app[RESOURCES].project(name) is None:
        raise NotFoundError(f"no project {name!r}")
    return name


def _secret(request: web.Request) -> str:
    name = request.match_info["secret"]
    check_secret_name(name)
    return name


async def put_secret(request: web.Request) -> web.Response:
    require(request, "write")
    project = await _project(request)
    name = _secret(request)
    if request.content_length is not None and request.content_length > MAX_SECRET:
        raise InputError(f"secret {name!r} is too long: at most {MAX_SECRET} bytes")
    value = await request.read()
    found = request.app[SECRETS]
    created = found.value(project, name) is None
    found.set(project, name, value)
    return web.json_response({"project": project, "secret": name},
                             status=201 if created else 200)


async def list_secrets(request: web.Request) -> web.Response:
    require(request, "read")
    project = await _project(request)
    return web.json_response([s.to_json() for s in request.app[SECRETS].infos(project)])


async def delete_secret(request: web.Request) -> web.Response:
    require(request, "write")
    project = await _project(request)
    name = _secret(request)
    if not request.app[SECRETS].remove(project, name):
        raise NotFoundError(f"project {project!r} has no secret {name!r}")
    return web.json_response({"deleted": name})


async def worker_secret(request: web.Request) -> web.Response:
    require(request, "worker")
    worker = request.query.get("worker", "")
    build_id, seq = int(request.match_info["build"]), int(request.match_info["seq"])
    name = _secret(request)
    run = request.app[CONTROLLER].running_action(build_id)
    if run is None or run.worker != worker or run.seq != seq:
        raise ForbiddenError(f"worker {worker!r} is not running action {seq} of build {build_id}")
    try:
        named = secret_names(run.spec, run.parameters)
    except ActionError as e:
        raise InputError(e.message) from None
    if name not in named:
        raise ForbiddenError(f"action {seq} of build {build_id} does not name secret {name!r}")
    value = request.app[SECRETS].value(run.project, name)
    if value is None:
        raise NotFoundError(f"project {run.project!r} has no secret {name!r}")
    return web.Response(body=value, content_type="application/octet-stream")


def add_routes(app: web.Application) -> None:
    """Must come before the `/projects/{name:.+}` routes, which would match these paths."""
    r = app.router
    r.add_get(_BASE, list_secrets)
    r.add_put(f"{_BASE}/{{secret:{_SECRET}}}", put_secret)
    r.add_delete(f"{_BASE}/{{secret:{_SECRET}}}", delete_secret)
    r.add_get(fr"/work/{{build:\d+}}/{{seq:\d+}}/secrets/{{secret:{_SECRET}}}", worker_secret)
