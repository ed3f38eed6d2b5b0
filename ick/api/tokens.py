"""Routes for API tokens (admin scope only); a token may be bound to projects (`projects`:
globs on their names)."""

from __future__ import annotations

from aiohttp import web

from ick.api.helpers import json_body, require
from ick.errors import InputError
from ick.keys import TOKENS


async def list_tokens(request: web.Request) -> web.Response:
    require(request, "admin")
    return web.json_response([t.to_json() for t in request.app[TOKENS].list()])


async def create_token(request: web.Request) -> web.Response:
    require(request, "admin")
    body = await json_body(request)
    if not isinstance(body, dict):
        raise InputError("expected a JSON object with 'name' and 'scopes'")
    name = body.get("name")
    scopes = body.get("scopes")
    if not isinstance(name, str):
        raise InputError("name: expected a string")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise InputError("scopes: expected a list of strings")
    reuse = body.get("reuse", False)
    if not isinstance(reuse, bool) or set(body) - {"name", "scopes", "reuse", "projects"}:
        raise InputError("expected a JSON object with 'name', 'scopes' and optionally 'reuse'")
    projects = body.get("projects")
    if projects is not None and (not isinstance(projects, list)
                                 or not all(isinstance(p, str) for p in projects)):
        raise InputError("projects: expected a list of globs (strings)")
    keeper = request.app[TOKENS]
    if reuse:
        # The same token again for the same name, scopes and projects (ick hook: one per
        # project).
        token, record, new = await keeper.reuse(name, scopes, projects)
        return web.json_response({**record.to_json(), "token": token},
                                 status=201 if new else 200)
    token, record = await keeper.create(name, scopes, projects=projects)
    return web.json_response({**record.to_json(), "token": token}, status=201)


async def revoke_token(request: web.Request) -> web.Response:
    require(request, "admin")
    key_id = request.match_info["id"]
    await request.app[TOKENS].revoke(key_id)
    return web.json_response({"revoked": key_id})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/tokens", list_tokens)
    app.router.add_post("/tokens", create_token)
    app.router.add_delete("/tokens/{id}", revoke_token)
