"""`POST /login-links`: a one-use web login link for the calling token (`ick login-link`)."""

from __future__ import annotations

from aiohttp import web

from ick.api.helpers import require
from ick.keepers.sessions import LINK_SECONDS
from ick.keys import BASE_URL, SESSIONS


async def create_link(request: web.Request) -> web.Response:
    # A bound token may log in too: the pages check its projects as the API does.
    record = require(request, "read", checks_projects=True)
    secret, expires = await request.app[SESSIONS].make_link(record)
    url = f"{request.app[BASE_URL].rstrip('/')}/ui/login?link={secret}"
    return web.json_response({"url": url, "expires_at": expires, "seconds": LINK_SECONDS},
                             status=201)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/login-links", create_link)
