"""`POST /login-links`: a one-use web login link for the calling token (`ick login-link`)."""

from __future__ import annotations

from aiohttp import web

from ick.api.app import require, services
from ick.api.sessions import LINK_SECONDS, SESSIONS


def public_base(request: web.Request) -> str:
    """Where users reach the daemon: public_url, else the address it listens on."""
    svc = services(request)
    return str(svc.settings.public_url or svc.extra.get("url") or svc.settings.url()).rstrip("/")


async def create_link(request: web.Request) -> web.Response:
    record = require(request, "read")
    secret, expires = await request.app[SESSIONS].make_link(record)
    url = f"{public_base(request)}/ui/login?link={secret}"
    return web.json_response({"url": url, "expires_at": expires, "seconds": LINK_SECONDS},
                             status=201)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/login-links", create_link)
