"""The environments' pages (DESIGN.md, "Continuous delivery"): one environment, what is live
there and its deployments, with the forms Deploy, Approve, Reject and Roll back (POST with
CSRF, scope deploy, answered with 303 back to the page)."""

from __future__ import annotations

from aiohttp import web

from ick.errors import InputError, NotFoundError
from ick.keepers.tokens import has_scope
from ick.storage.deployments import DeploymentState
from ick.ui import access, wiring
from ick.ui.pages import project_name
from ick.ui.templates import render

HISTORY = 100  # deployments the page lists


def environment_name(request: web.Request) -> str:
    name = request.match_info["env"]
    if not name or len(name) > 200 or not name.isprintable():
        raise InputError("bad environment name")
    return name


def _page(project: str, environment: str) -> str:
    from urllib.parse import quote

    return f"/ui/projects/{quote(project)}/environments/{quote(environment)}"


async def environment_page(request: web.Request) -> web.StreamResponse:
    name = project_name(request)
    session = await access.page_session(request, project=name)
    env_name = environment_name(request)
    project = await wiring.resources(request).project(name)
    if project is None:
        raise NotFoundError(f"no project {name!r}")
    environment = project.environment(env_name)
    if environment is None:
        raise NotFoundError(f"project {name!r} has no environment {env_name!r}")
    deployments = wiring.deployments(request)
    history = await deployments.store.find(name, env_name, HISTORY)
    live = await deployments.live(name, env_name)
    return render(request, "environment.html", {
        "project": project, "environment": environment, "deployments": history,
        "live": live, "can_deploy": has_scope(session.token, "deploy"),
        "waiting": DeploymentState.WAITING,
    })


def _build_field(value: object) -> int | None:
    text = str(value or "").strip().lstrip("#")
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InputError(f"build: expected a build id, not {text!r}")
    return int(text)


async def deploy(request: web.Request) -> web.StreamResponse:
    name = project_name(request)
    session, form = await access.session_form(request, "deploy", name)
    env_name = environment_name(request)
    await wiring.deployments(request).deploy(name, env_name, _build_field(form.get("build")),
                                             session.token.name)
    raise web.HTTPSeeOther(_page(name, env_name))


async def rollback(request: web.Request) -> web.StreamResponse:
    name = project_name(request)
    session, form = await access.session_form(request, "deploy", name)
    env_name = environment_name(request)
    await wiring.deployments(request).rollback(name, env_name, _build_field(form.get("build")),
                                               session.token.name)
    raise web.HTTPSeeOther(_page(name, env_name))


def _deployment_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InputError(f"bad deployment id {text!r}: expected a number")
    return int(text)


async def _decide(request: web.Request, approve: bool) -> web.StreamResponse:
    session, _ = await access.session_form(request, "deploy", checks_projects=True)
    deployments = wiring.deployments(request)
    found = await deployments.get(_deployment_id(request))
    if not session.token.binds(found.project):
        raise NotFoundError(f"no deployment {found.id}")
    if approve:
        await deployments.approve(found.id, session.token.name)
    else:
        await deployments.reject(found.id, session.token.name)
    raise web.HTTPSeeOther(_page(found.project, found.environment))


async def approve(request: web.Request) -> web.StreamResponse:
    return await _decide(request, True)


async def reject(request: web.Request) -> web.StreamResponse:
    return await _decide(request, False)
