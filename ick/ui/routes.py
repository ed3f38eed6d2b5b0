"""The web UI: server-rendered pages under /ui/, live logs, forms that work without JavaScript.

`add_routes(app)` is all the daemon calls. The page modules, Jinja2 and the templates load at
the first request that needs them: an idle daemon carries none of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from ick.ui.headers import security_headers
from ick.ui.streams import STREAMS, Streams

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC = Path(__file__).parent / "static"


def _lazy(module: str, name: str) -> Handler:
    """The handler `ick.ui.MODULE.NAME`, imported at its first request, errors as pages."""
    loaded: list[Handler] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        if not loaded:
            access = importlib.import_module("ick.ui.access")
            loaded.append(access.page(getattr(importlib.import_module(f"ick.ui.{module}"),
                                              name)))
        return await loaded[0](request)

    return handler


async def _root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/ui/")


def add_routes(app: web.Application) -> None:
    from ick.ui.templates import TEMPLATES_KEY, Templates

    app[TEMPLATES_KEY] = Templates()
    streams = Streams()
    app[STREAMS] = streams
    app.on_shutdown.append(streams.stop)
    app.on_response_prepare.append(security_headers)
    r = app.router
    r.add_get("/", _root)
    r.add_get("/ui", _root)
    r.add_get("/ui/", _lazy("pages", "dashboard"))
    r.add_get("/ui/login", _lazy("forms", "login_page"))
    r.add_post("/ui/login", _lazy("forms", "login"))
    r.add_post("/ui/logout", _lazy("forms", "logout"))
    r.add_post(r"/ui/projects/{name:.+}/+build", _lazy("forms", "build_now"))
    r.add_get(r"/ui/projects/{name:.+}", _lazy("pages", "project_page"))
    r.add_get("/ui/builds/{id}", _lazy("pages", "build_page"))
    r.add_get("/ui/builds/{id}/events", _lazy("live", "events"))
    r.add_get("/ui/builds/{id}/log.txt", _lazy("live", "log_txt"))
    r.add_post("/ui/builds/{id}/+cancel", _lazy("forms", "cancel"))
    r.add_post("/ui/builds/{id}/+rebuild", _lazy("forms", "rebuild"))
    r.add_get("/ui/artifacts", _lazy("pages", "artifacts_page"))
    r.add_get(r"/ui/artifacts/{name:.+}", _lazy("pages", "artifact_download"))
    r.add_get("/ui/workers", _lazy("pages", "workers_page"))
    r.add_get(r"/badges/{name:.+}.svg", _lazy("badges", "badge"))
    r.add_static("/ui/static/", STATIC, follow_symlinks=False, show_index=False)
