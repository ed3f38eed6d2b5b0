"""`POST /prune`: prune now, as the hourly prune does (or, with dry_run, say what it would)."""

from __future__ import annotations

from aiohttp import web

from ick.api.helpers import json_body, require
from ick.errors import InputError
from ick.keys import PRUNER


async def prune(request: web.Request) -> web.Response:
    require(request, "write")
    body = await json_body(request)
    if body is None:
        body = {}
    if not isinstance(body, dict) or set(body) - {"dry_run"} or not isinstance(
            body.get("dry_run", False), bool):
        raise InputError("expected a JSON object with an optional 'dry_run' (true or false)")
    report = await request.app[PRUNER].prune(dry_run=body.get("dry_run", False))
    return web.json_response(report.to_json())


def add_routes(app: web.Application) -> None:
    app.router.add_post("/prune", prune)
