"""The aiohttp application: one typed key per service, the error middleware, the routes."""

from __future__ import annotations

import errno
import logging
from pathlib import Path

from aiohttp import web

import ick
from ick import keys
from ick.api.badrequests import quiet_bad_requests
from ick.api.helpers import Handler, error_response
from ick.daemon import Daemon
from ick.errors import IckError
from ick.keepers.streams import StreamSlots

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
    except OSError as e:
        if e.errno != errno.ENAMETOOLONG:  # a path a client made up (a static file's)
            raise
        return error_response(400, "a name in the path is too long")


async def version(request: web.Request) -> web.Response:
    return web.json_response({"name": "ick", "version": ick.__version__})


def add_apt_routes(app: web.Application, www: Path) -> None:
    # No index pages and no symlinks followed: only the files reprepro and ick put there.
    app.router.add_static("/apt/", www, follow_symlinks=False, show_index=False)


def make_app(daemon: Daemon) -> web.Application:
    """The API over the daemon's services; each handler reads the ones it needs by key."""
    from ick.api import (
        apply,
        artifacts,
        builds,
        deployments,
        feeds,
        gate,
        logins,
        outputs,
        prune,
        resources,
        secrets,
        tokens,
        webhooks,
        work,
    )
    from ick.ui.routes import add_routes as add_ui_routes

    app = web.Application(middlewares=[errors_middleware])
    app.cleanup_ctx.append(quiet_bad_requests)
    app[keys.SETTINGS] = daemon.settings
    app[keys.TOKENS] = daemon.tokens
    app[keys.RESOURCES] = daemon.resources
    app[keys.BUILDS] = daemon.builds
    app[keys.LOGS] = daemon.logs
    app[keys.NOTIFICATIONS] = daemon.notifications
    app[keys.DELIVERIES] = daemon.deliveries
    app[keys.ARTIFACTS] = daemon.artifacts
    app[keys.OUTPUTS] = daemon.outputs
    app[keys.SECRETS] = daemon.secrets
    app[keys.CONTROLLER] = daemon.controller
    app[keys.GATE] = daemon.gate
    app[keys.BASE_URL] = daemon.base_url
    app[keys.SESSIONS] = daemon.sessions
    app[keys.OVERVIEW] = daemon.overview
    app[keys.PRUNER] = daemon.upkeep.pruner
    app[keys.DEPLOYMENTS] = daemon.deployments
    app[keys.STREAM_SLOTS] = StreamSlots(daemon.settings.max_streams,
                                         daemon.settings.max_streams_per_session)
    app.router.add_get("/version", version)
    secrets.add_routes(app)  # before resources: /projects/{name:.+} would take its paths
    feeds.add_routes(app)  # before resources, for the same reason
    gate.add_routes(app)  # before resources, for the same reason
    deployments.add_routes(app)  # before resources, for the same reason
    resources.add_routes(app)
    builds.add_routes(app)
    outputs.add_routes(app)
    artifacts.add_routes(app)
    tokens.add_routes(app)
    work.add_routes(app)
    apply.add_routes(app)
    prune.add_routes(app)
    webhooks.add_routes(app)
    add_apt_routes(app, daemon.settings.state_dir / "apt" / "www")
    logins.add_routes(app)
    add_ui_routes(app)
    return app
