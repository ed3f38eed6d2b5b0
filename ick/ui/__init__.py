"""The web UI: server-rendered pages under /ui/, live logs, forms that work without JavaScript.

`add_routes(app)` is all the daemon calls; Jinja2 and the templates load at the first page.
"""

from __future__ import annotations

from aiohttp import web

from ick.ui import access, badges, forms, live, pages
from ick.ui.templates import STATIC, TEMPLATES_KEY, Templates


def add_routes(app: web.Application) -> None:
    app[TEMPLATES_KEY] = Templates()
    streams = live.Streams()
    app[live.STREAMS] = streams
    app.on_shutdown.append(streams.stop)
    app.on_response_prepare.append(access.security_headers)
    page = access.page
    r = app.router
    r.add_get("/", pages.root)
    r.add_get("/ui", pages.root)
    r.add_get("/ui/", page(pages.dashboard))
    r.add_get("/ui/login", page(forms.login_page))
    r.add_post("/ui/login", page(forms.login))
    r.add_post("/ui/logout", page(forms.logout))
    r.add_post(r"/ui/projects/{name:.+}/+build", page(forms.build_now))
    r.add_get(r"/ui/projects/{name:.+}", page(pages.project_page))
    r.add_get("/ui/builds/{id}", page(pages.build_page))
    r.add_get("/ui/builds/{id}/events", page(live.events))
    r.add_get("/ui/builds/{id}/log.txt", page(live.log_txt))
    r.add_post("/ui/builds/{id}/+cancel", page(forms.cancel))
    r.add_post("/ui/builds/{id}/+rebuild", page(forms.rebuild))
    r.add_get("/ui/artifacts", page(pages.artifacts_page))
    r.add_get(r"/ui/artifacts/{name:.+}", page(pages.artifact_download))
    r.add_get("/ui/workers", page(pages.workers_page))
    r.add_get(r"/badges/{name:.+}.svg", page(badges.badge))
    r.add_static("/ui/static/", STATIC, follow_symlinks=False, show_index=False)
