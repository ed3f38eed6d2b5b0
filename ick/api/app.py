"""The aiohttp application: one typed key per service, the error middleware, the routes."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

import ick
from ick.api import keys
from ick.api.helpers import Handler, error_response
from ick.daemon import Daemon
from ick.errors import IckError

log = logging.getLogger(__name__)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except IckError as e:
        if e.status >= 500:
            log.error("internal error on %s %s: %s", request.method, request.path, e.message)
        return error_response(e.status, e.message)
    except web.HTTPException as e:
        if e.status >= 400 and e.content_type != "application/json":
            return error_response(e.status, e.reason.lower())
        raise


async def version(request: web.Request) -> web.Response:
    return web.json_response({"name": "ick", "version": ick.__version__})


def add_apt_routes(app: web.Application, www: Path) -> None:
    # No index pages and no symlinks followed: only the files reprepro and ick put there.
    app.router.add_static("/apt/", www, follow_symlinks=False, show_index=False)


def make_app(daemon: Daemon) -> web.Application:
    """The API over the daemon's services; each handler reads the ones it needs by key."""
    from ick.api import artifacts, builds, prune, resources, secrets, tokens, work

    app = web.Application(middlewares=[errors_middleware])
    app[keys.SETTINGS] = daemon.settings
    app[keys.TOKENS] = daemon.tokens
    app[keys.RESOURCES] = daemon.resources
    app[keys.BUILDS] = daemon.builds
    app[keys.LOGS] = daemon.logs
    app[keys.NOTIFICATIONS] = daemon.notifications
    app[keys.ARTIFACTS] = daemon.artifacts
    app[keys.SECRETS] = daemon.secrets
    app[keys.CONTROLLER] = daemon.controller
    app[keys.PRUNER] = daemon.upkeep.pruner
    app.router.add_get("/version", version)
    secrets.add_routes(app)  # before resources: /projects/{name:.+} would take its paths
    resources.add_routes(app)
    builds.add_routes(app)
    artifacts.add_routes(app)
    tokens.add_routes(app)
    work.add_routes(app)
    prune.add_routes(app)
    add_apt_routes(app, daemon.settings.state_dir / "apt" / "www")
    return app
