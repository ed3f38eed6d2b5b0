"""Routes for a project's secrets; no route ever answers with a value.

    PUT    /projects/{name}/+secrets/{secret}   body: the raw value        write
    GET    /projects/{name}/+secrets            names and times            read
    DELETE /projects/{name}/+secrets/{secret}                              write

Each takes ?environment=ENV: that environment's secrets, which only the runs of
deployments there get.

Remote workers get the value of a secret their action names through the work protocol
(ick.api.work).
"""

from __future__ import annotations

from aiohttp import web

from ick.api.helpers import require
from ick.errors import InputError, NotFoundError
from ick.keys import RESOURCES, SECRETS
from ick.model import SECRET_NAME_RE, name_problem
from ick.storage.secrets import MAX_SECRET, check_secret_name

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


async def _environment(request: web.Request, project: str, must_exist: bool) -> str | None:
    """?environment=ENV, a name; when setting, one the project has."""
    environment = request.query.get("environment")
    if environment is None:
        return None
    problem = name_problem(environment)
    if problem:
        raise InputError(f"environment: {problem}")
    found = await request.app[RESOURCES].project(project)
    if must_exist and (found is None or found.environment(environment) is None):
        raise NotFoundError(f"project {project!r} has no environment {environment!r}")
    return environment


def _secret(request: web.Request) -> str:
    name = request.match_info["secret"]
    check_secret_name(name)
    return name


async def put_secret(request: web.Request) -> web.Response:
    require(request, "write", request.match_info["name"])
    project = await _project(request)
    name = _secret(request)
    if request.content_length is not None and request.content_length > MAX_SECRET:
        raise InputError(f"secret {name!r} is too long: at most {MAX_SECRET} bytes")
    environment = await _environment(request, project, True)
    value = await request.read()
    found = request.app[SECRETS]
    created = found.store.get(project, name, environment) is None
    found.set(project, name, value, environment)
    doc = {"project": project, "secret": name}
    if environment is not None:
        doc["environment"] = environment
    return web.json_response(doc, status=201 if created else 200)


async def list_secrets(request: web.Request) -> web.Response:
    require(request, "read", request.match_info["name"])
    project = await _project(request)
    environment = await _environment(request, project, False)
    return web.json_response([s.to_json()
                              for s in request.app[SECRETS].infos(project, environment)])


async def delete_secret(request: web.Request) -> web.Response:
    require(request, "write", request.match_info["name"])
    project = await _project(request)
    name = _secret(request)
    environment = await _environment(request, project, False)
    if not request.app[SECRETS].remove(project, name, environment):
        where = "" if environment is None else f" in environment {environment!r}"
        raise NotFoundError(f"project {project!r} has no secret {name!r}{where}")
    return web.json_response({"deleted": name})


def add_routes(app: web.Application) -> None:
    """Must come before the `/projects/{name:.+}` routes, which would match these paths."""
    r = app.router
    r.add_get(_BASE, list_secrets)
    r.add_put(f"{_BASE}/{{secret:{_SECRET}}}", put_secret)
    r.add_delete(f"{_BASE}/{{secret:{_SECRET}}}", delete_secret)
