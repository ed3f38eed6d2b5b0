"""The web UI's routes. Each handler here imports its page module at its first request, so an
idle daemon carries neither the page modules nor Jinja2; errors show as pages (access.page).
"""

from __future__ import annotations

from aiohttp import web

from ick.ui.access import page
from ick.ui.headers import security_headers
from ick.ui.streams import STREAMS, Streams
from ick.ui.templates import STATIC, TEMPLATES_KEY, Templates


@page
async def dashboard(request: web.Request) -> web.StreamResponse:
    from ick.ui import pages

    return await pages.dashboard(request)


@page
async def project_page(request: web.Request) -> web.StreamResponse:
    from ick.ui import pages

    return await pages.project_page(request)


@page
async def build_page(request: web.Request) -> web.StreamResponse:
    from ick.ui import pages

    return await pages.build_page(request)


@page
async def artifacts_page(request: web.Request) -> web.StreamResponse:
    from ick.ui import pages

    return await pages.artifacts_page(request)


@page
async def artifact_download(request: web.Request) -> web.StreamResponse:
    from ick.ui import pages

    return await pages.artifact_download(request)


@page
async def output_download(request: web.Request) -> web.StreamResponse:
    from ick.ui import pages

    return await pages.output_download(request)


@page
async def workers_page(request: web.Request) -> web.StreamResponse:
    from ick.ui import pages

    return await pages.workers_page(request)


@page
async def login_page(request: web.Request) -> web.StreamResponse:
    from ick.ui import forms

    return await forms.login_page(request)


@page
async def login(request: web.Request) -> web.StreamResponse:
    from ick.ui import forms

    return await forms.login(request)


@page
async def logout(request: web.Request) -> web.StreamResponse:
    from ick.ui import forms

    return await forms.logout(request)


@page
async def build_now(request: web.Request) -> web.StreamResponse:
    from ick.ui import forms

    return await forms.build_now(request)


@page
async def cancel(request: web.Request) -> web.StreamResponse:
    from ick.ui import forms

    return await forms.cancel(request)


@page
async def rebuild(request: web.Request) -> web.StreamResponse:
    from ick.ui import forms

    return await forms.rebuild(request)


@page
async def environment_page(request: web.Request) -> web.StreamResponse:
    from ick.ui import environments

    return await environments.environment_page(request)


@page
async def deploy(request: web.Request) -> web.StreamResponse:
    from ick.ui import environments

    return await environments.deploy(request)


@page
async def rollback(request: web.Request) -> web.StreamResponse:
    from ick.ui import environments

    return await environments.rollback(request)


@page
async def approve(request: web.Request) -> web.StreamResponse:
    from ick.ui import environments

    return await environments.approve(request)


@page
async def reject(request: web.Request) -> web.StreamResponse:
    from ick.ui import environments

    return await environments.reject(request)


@page
async def events(request: web.Request) -> web.StreamResponse:
    from ick.ui import live

    return await live.events(request)


@page
async def log_txt(request: web.Request) -> web.StreamResponse:
    from ick.ui import live

    return await live.log_txt(request)


@page
async def badge(request: web.Request) -> web.StreamResponse:
    from ick.ui import badges

    return await badges.badge(request)


async def _root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/ui/")


def add_routes(app: web.Application) -> None:
    app[TEMPLATES_KEY] = Templates()
    streams = Streams()
    app[STREAMS] = streams
    app.on_shutdown.append(streams.stop)
    app.on_response_prepare.append(security_headers)
    r = app.router
    r.add_get("/", _root)
    r.add_get("/ui", _root)
    r.add_get("/ui/", dashboard)
    r.add_get("/ui/login", login_page)
    r.add_post("/ui/login", login)
    r.add_post("/ui/logout", logout)
    r.add_post(r"/ui/projects/{name:.+}/+build", build_now)
    # An environment's name is a name: no '/' or '+', so its part is never a project's.
    environment = r"/ui/projects/{name:.+}/environments/{env:[^/+][^/]*}"
    r.add_get(environment, environment_page)
    r.add_post(f"{environment}/+deploy", deploy)
    r.add_post(f"{environment}/+rollback", rollback)
    r.add_post("/ui/deployments/{id}/+approve", approve)
    r.add_post("/ui/deployments/{id}/+reject", reject)
    r.add_get(r"/ui/projects/{name:.+}", project_page)
    r.add_get("/ui/builds/{id}", build_page)
    r.add_get("/ui/builds/{id}/events", events)
    r.add_get("/ui/builds/{id}/log.txt", log_txt)
    r.add_get(r"/ui/builds/{id}/outputs/{path:.+}", output_download)
    r.add_post("/ui/builds/{id}/+cancel", cancel)
    r.add_post("/ui/builds/{id}/+rebuild", rebuild)
    r.add_get("/ui/artifacts", artifacts_page)
    r.add_get(r"/ui/artifacts/{name:.+}", artifact_download)
    r.add_get("/ui/workers", workers_page)
    r.add_get(r"/badges/{name:.+}.svg", badge)
    r.add_static("/ui/static/", STATIC, follow_symlinks=False, show_index=False)
